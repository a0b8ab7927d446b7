// The server's HTTP endpoint on --metrics-address: /healthz (the process runs), /readyz (the
// controllers are up, see readiness.ts) and /metrics (Prometheus text, see metrics.ts).
import { createServer } from "node:http"

import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Data, Effect, Either, Layer, Metric } from "effect"

import { registerSeries } from "./metrics.ts"
import { contentType, renderPrometheus } from "./prometheus.ts"
import { Readiness } from "./readiness.ts"

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

const formatAddress = (address: HttpServer.Address) =>
  address._tag === "UnixAddress"
    ? address.path
    : address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`

const text = (body: string, status = 200) => Effect.succeed(HttpServerResponse.text(body, { status }))

const router = HttpRouter.empty.pipe(
  HttpRouter.get("/healthz", text("ok")),
  HttpRouter.get(
    "/readyz",
    Effect.flatMap(Readiness, (readiness) => readiness.isReady).pipe(
      Effect.flatMap((ready) => (ready ? text("ok") : text("not ready", 503)))
    )
  ),
  HttpRouter.get(
    "/metrics",
    Effect.map(Metric.snapshot, (pairs) => HttpServerResponse.text(renderPrometheus(pairs), { contentType }))
  )
)

/** Tests find the port of ":0" in this line: `{"message":"serving metrics",...,"annotations":{"address":"127.0.0.1:41234"}}`. */
const logAddress = HttpServer.addressWith((address) =>
  Effect.logInfo("serving metrics").pipe(Effect.annotateLogs({ address: formatAddress(address) }))
)

/**
 * Serves /healthz, /readyz and /metrics on `address` for as long as the layer lives; anything else
 * is 404. Fails to build when the address is malformed or cannot be listened on.
 */
export const httpLayer = (address: string): Layer.Layer<never, ServeError | InvalidMetricsAddress, Readiness> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const listen = yield* parseMetricsAddress(address)
      yield* registerSeries
      return Layer.merge(HttpServer.serve(router), Layer.effectDiscard(logAddress)).pipe(
        Layer.provide(NodeHttpServer.layer(() => createServer(), listen))
      )
    })
  )
