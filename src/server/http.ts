// The server's HTTP endpoint on --metrics-address: /healthz (the process runs), /readyz (the
// controllers are up, see readiness.ts) and /metrics (Prometheus text: Ark's metrics, see
// metrics.ts, and the process's, see runtimeMetrics.ts).
import type { IncomingMessage, ServerResponse } from "node:http"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

import { Data, Effect, Either, Layer, Runtime } from "effect"

import { arkSnapshot, registerSeries, scheduleIntervals } from "./metrics.ts"
import type { MetricFamily } from "./prometheus.ts"
import { contentType, familiesOf, renderFamilies } from "./prometheus.ts"
import { Readiness } from "./readiness.ts"
import { runtimeMetrics } from "./runtimeMetrics.ts"

/** The address cannot be listened on (taken, not local, not permitted). */
export class ServeError extends Data.TaggedError("ServeError")<{ readonly message: string; readonly cause: unknown }> {}

export class InvalidMetricsAddress extends Data.TaggedError("InvalidMetricsAddress")<{
  readonly address: string
  readonly reason: string
}> {
  override get message() {
    return `--metrics-address ${JSON.stringify(this.address)}: ${this.reason}`
  }
}

export interface ListenAddress {
  /** Absent: every interface. */
  readonly host?: string
  /** 0: any free port. */
  readonly port: number
}

/** Go's `host:port`: ":8085" (every interface), "127.0.0.1:0" (any free port), "[::1]:8085". */
export const parseMetricsAddress = (address: string): Either.Either<ListenAddress, InvalidMetricsAddress> => {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(address)
  const port = Number(match?.[3])
  if (match === null || port > 65535) {
    return Either.left(
      new InvalidMetricsAddress({
        address,
        reason: "expected host:port with a port up to 65535, such as :8085 or 127.0.0.1:8085"
      })
    )
  }
  const host = match[1] ?? match[2] ?? ""
  return Either.right(host === "" ? { port } : { host, port })
}

const formatAddress = (address: AddressInfo) =>
  address.address.includes(":") ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`

const reply = (response: ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8") => {
  response.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) })
  response.end(body)
}

/** Three read-only pages: node:http serves them without a router (@effect/platform's costs ~30 MiB loaded). */
const handler =
  (readiness: Readiness.Shape, runtime: Effect.Effect<ReadonlyArray<MetricFamily>>) => (request: IncomingMessage) =>
    Effect.gen(function*() {
      const path = (request.url ?? "/").split("?")[0]
      if (request.method !== "GET" && request.method !== "HEAD") return [405, "method not allowed"] as const
      switch (path) {
        case "/healthz":
          return [200, "ok"] as const
        case "/readyz":
          return (yield* readiness.isReady) ? [200, "ok"] as const : [503, "not ready"] as const
        case "/metrics":
          return [
            200,
            renderFamilies([...familiesOf(yield* arkSnapshot), yield* scheduleIntervals, ...yield* runtime]),
            contentType
          ] as const
        default:
          return [404, "not found"] as const
      }
    })

/**
 * Serves /healthz, /readyz and /metrics on `address` for as long as the layer lives; anything else
 * is 404. Fails to build when the address is malformed or cannot be listened on.
 */
export const httpLayer = (address: string): Layer.Layer<never, ServeError | InvalidMetricsAddress, Readiness> =>
  Layer.scopedDiscard(
    Effect.gen(function*() {
      const listen = yield* parseMetricsAddress(address)
      yield* registerSeries
      const handle = handler(yield* Readiness, yield* runtimeMetrics)
      const runtime = yield* Effect.runtime<never>()
      const server = createServer((request, response) => {
        Runtime.runPromise(runtime, handle(request)).then(
          ([status, body, type]) => reply(response, status, request.method === "HEAD" ? "" : body, type),
          () => reply(response, 500, "internal error")
        )
      })
      yield* Effect.acquireRelease(
        Effect.async<void, ServeError>((resume) => {
          const failed = (cause: Error) =>
            resume(Effect.fail(new ServeError({ message: `cannot listen on ${address}: ${cause.message}`, cause })))
          server.once("error", failed)
          server.listen(listen.port, listen.host, () => {
            server.off("error", failed)
            resume(Effect.void)
          })
        }),
        () =>
          Effect.async<void>((resume) => {
            server.close(() => resume(Effect.void))
            server.closeAllConnections()
          })
      )
      // Tests find the port of ":0" in this line: `{"message":"serving metrics",...,"annotations":{"address":"127.0.0.1:41234"}}`.
      yield* Effect.logInfo("serving metrics").pipe(
        Effect.annotateLogs({ address: formatAddress(server.address() as AddressInfo) })
      )
    })
  )
