// Minimal HTTP(S) client for health checks and a few API calls (no kubectl needed).
import { readFileSync } from "node:fs"
import { request as httpRequest } from "node:http"
import { request as httpsRequest } from "node:https"

export interface Tls {
  readonly ca?: string // file paths
  readonly cert?: string
  readonly key?: string
}

export interface Response {
  readonly status: number
  readonly body: string
}

export const fetchUrl = (
  url: string,
  opts: { readonly method?: string; readonly body?: string; readonly tls?: Tls; readonly timeoutMs?: number } = {}
): Promise<Response> =>
  new Promise((resolve, reject) => {
    const u = new URL(url)
    const tls = opts.tls
    const common = {
      method: opts.method ?? "GET",
      headers: opts.body === undefined ? {} : { "content-type": "application/json" },
      timeout: opts.timeoutMs ?? 5_000
    }
    const req = u.protocol === "https:"
      ? httpsRequest(u, {
        ...common,
        // Component self-signed serving certs (kcm, scheduler) are not verified; no CA means insecure.
        rejectUnauthorized: tls?.ca !== undefined,
        ...(tls?.ca ? { ca: readFileSync(tls.ca) } : {}),
        ...(tls?.cert ? { cert: readFileSync(tls.cert) } : {}),
        ...(tls?.key ? { key: readFileSync(tls.key) } : {})
      })
      : httpRequest(u, common)
    req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)))
    req.on("error", reject)
    req.on("response", (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }))
      res.on("error", reject)
    })
    req.end(opts.body)
  })

/** True when the URL answers 200. */
export const ok200 = async (url: string, tls?: Tls): Promise<boolean> =>
  (await fetchUrl(url, tls ? { tls } : {})).status === 200
