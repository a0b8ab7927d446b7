import type { IncomingMessage } from "node:http"
import * as http from "node:http"
import * as https from "node:https"

import type { Scope } from "effect"
import { Clock, Duration, Effect } from "effect"

import type { KubeError, KubeUnavailable } from "../../../services/KubeClient.ts"
import type { ClusterAccess } from "./access.ts"
import type { RequestContext } from "./errors.ts"
import { statusError, transportError } from "./errors.ts"

export interface KubeRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  readonly path: string
  readonly query?: URLSearchParams
  readonly body?: unknown
  readonly contentType?: string
}

export interface KubeTextResponse {
  readonly status: number
  readonly retryAfter: string | undefined
  readonly text: string
}

export interface Transport {
  /** The response head; the body streams. Leaving the scope aborts the request if still open. */
  readonly open: (
    request: KubeRequest,
    context: RequestContext
  ) => Effect.Effect<IncomingMessage, KubeUnavailable, Scope.Scope>
  /** The whole response as JSON, a non-2xx status mapped to its typed error. */
  readonly json: (request: KubeRequest, context: RequestContext) => Effect.Effect<unknown, KubeError>
}

const header = (response: IncomingMessage, name: string): string | undefined => {
  const value = response.headers[name]
  return Array.isArray(value) ? value[0] : value
}

export const parseBody = (text: string): unknown => {
  if (text.trim() === "") return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const tlsIdentity = (options: https.RequestOptions): string =>
  [options.ca, options.cert, options.key, options.rejectUnauthorized, options.servername]
    .map((part) => (Buffer.isBuffer(part) ? part.toString("base64") : String(part)))
    .join("\u0000")

/**
 * One keep-alive agent per TLS identity, so requests do not pay a TLS handshake each (rotated client
 * certificates get a new one). Proxied clusters keep the agents their loader built.
 */
const makeAgentCache = (access: ClusterAccess) => {
  const agents = new Map<string, https.Agent>()
  return (options: https.RequestOptions) => {
    if (access.proxied || !access.server.startsWith("https:")) return
    const identity = tlsIdentity(options)
    let agent = agents.get(identity)
    if (agent === undefined) {
      if (agents.size >= 8) agents.clear()
      agent = new https.Agent({
        keepAlive: true,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.cert === undefined ? {} : { cert: options.cert }),
        ...(options.key === undefined ? {} : { key: options.key }),
        ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
        ...(options.servername === undefined ? {} : { servername: options.servername })
      })
      agents.set(identity, agent)
    }
    options.agent = agent
  }
}

/** How long TLS material and credentials are reused before they are read again. */
const CREDENTIALS_REFRESH_MILLIS = 10_000

/**
 * Reading certificate, key and token files for every request costs three file reads each. Read them
 * at most every few seconds: rotated service-account tokens and certificates are still picked up,
 * and exec plugins cache their own.
 */
const makeCredentialsCache = (access: ClusterAccess, shareAgent: (options: https.RequestOptions) => void) => {
  let cached: { readonly at: number; readonly options: https.RequestOptions } | undefined
  return Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    if (cached !== undefined && now - cached.at < CREDENTIALS_REFRESH_MILLIS) return cached.options
    const options = yield* Effect.tryPromise({ try: () => access.credentials(), catch: (cause) => cause })
    shareAgent(options)
    cached = { at: now, options }
    return options
  })
}

/** HTTP to the API server with the cluster's TLS and credentials (client certs, tokens, exec plugins). */
export const makeTransport = (
  access: ClusterAccess,
  requestTimeout: Duration.Duration,
  /** Waits for the client-side rate limit, if any; every request and watch opens through it. */
  throttle: Effect.Effect<void> = Effect.void
): Transport => {
  const base = access.server.replace(/\/+$/, "")
  const credentials = makeCredentialsCache(access, makeAgentCache(access))

  const open = (request: KubeRequest, context: RequestContext) =>
    Effect.gen(function*() {
      yield* throttle
      let response: IncomingMessage | undefined
      // Abort only what is still open: aborting a finished request costs a DOMException each time.
      const controller = yield* Effect.acquireRelease(
        Effect.sync(() => new AbortController()),
        (controller) => Effect.sync(() => response?.complete === true || controller.abort())
      )
      const query = request.query?.toString() ?? ""
      const url = new URL(base + request.path + (query === "" ? "" : `?${query}`))
      const body = request.body === undefined ? undefined : JSON.stringify(request.body)
      const headers: Record<string, string> = { Accept: "application/json" }
      if (body !== undefined) {
        headers["Content-Type"] = request.contentType ?? "application/json"
        headers["Content-Length"] = String(Buffer.byteLength(body))
      }
      const applied = yield* credentials.pipe(
        Effect.mapError((cause) => transportError(context, `${request.method} ${url.pathname}: credentials`, cause))
      )
      return yield* Effect.tryPromise({
        try: async () => {
          const options: https.RequestOptions = {
            ...applied,
            method: request.method,
            headers: { ...applied.headers, ...headers },
            signal: controller.signal
          }
          return await new Promise<IncomingMessage>((resolve, reject) => {
            const req = (url.protocol === "http:" ? http : https).request(url, options, (message) => {
              response = message
              resolve(message)
            })
            req.on("error", reject)
            req.end(body)
          })
        },
        catch: (cause) => transportError(context, `${request.method} ${url.pathname}`, cause)
      })
    })

  // A request whose whole answer is wanted runs as one callback chain, not as a scope, a stream and
  // a promise: that machinery cost ~1 ms of CPU per request, four times node:https itself.
  const target = new URL(base)
  const secure = target.protocol !== "http:"
  const hostname = target.hostname.startsWith("[") ? target.hostname.slice(1, -1) : target.hostname
  const prefix = target.pathname.replace(/\/+$/, "")
  const timeoutMillis = Duration.toMillis(requestTimeout)
  const auth = target.username === "" ? undefined : decodeURIComponent(`${target.username}:${target.password}`)

  const send = (request: KubeRequest, context: RequestContext, applied: https.RequestOptions) =>
    Effect.async<unknown, KubeError>((resume) => {
      const query = request.query?.toString() ?? ""
      const path = prefix + request.path + (query === "" ? "" : `?${query}`)
      const what = `${request.method} ${request.path}`
      const body = request.body === undefined ? undefined : JSON.stringify(request.body)
      const headers: http.OutgoingHttpHeaders = {
        ...(applied.headers as http.OutgoingHttpHeaders | undefined),
        Accept: "application/json"
      }
      if (body !== undefined) {
        headers["Content-Type"] = request.contentType ?? "application/json"
        headers["Content-Length"] = Buffer.byteLength(body)
      }
      const options: https.RequestOptions = {
        ...applied,
        protocol: target.protocol,
        hostname,
        port: target.port,
        path,
        method: request.method,
        headers
      }
      if (auth !== undefined) options.auth = auth
      const req = (secure ? https : http).request(options, (response) => {
        let text = ""
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => {
          text += chunk
        })
        response.on("end", () => {
          const status = response.statusCode ?? 0
          const parsed = parseBody(text)
          resume(
            status >= 200 && status < 300
              ? Effect.succeed(parsed)
              : Effect.fail(statusError(status, parsed, context, header(response, "retry-after")))
          )
        })
        response.on(
          "error",
          (cause) => resume(Effect.fail(transportError(context, `${what}: reading the response`, cause)))
        )
        response.on("close", () => {
          if (!response.complete) {
            resume(Effect.fail(transportError(context, `${what}: reading the response`, "the connection closed early")))
          }
        })
      })
      // The socket's idle timer, not a racing fiber: Effect.timeout forked two fibers per request.
      // A connection that went silent is what a deadline catches; the API server ends slow requests itself.
      let timedOut = false
      req.setTimeout(timeoutMillis, () => {
        timedOut = true
        req.destroy()
      })
      req.on("error", (cause) =>
        resume(
          Effect.fail(
            transportError(context, what, timedOut ? `no answer within ${Duration.format(requestTimeout)}` : cause)
          )
        ))
      req.end(body)
      // Interrupted (or timed out): abort what is still open. A resume after that is ignored.
      return Effect.sync(() => {
        req.destroy()
      })
    })

  const json = (request: KubeRequest, context: RequestContext) =>
    throttle.pipe(
      Effect.zipRight(credentials),
      Effect.mapError((cause) => transportError(context, `${request.method} ${request.path}: credentials`, cause)),
      Effect.flatMap((applied) => send(request, context, applied))
    )

  return { open, json }
}

export const responseRetryAfter = (response: IncomingMessage): string | undefined => header(response, "retry-after")
