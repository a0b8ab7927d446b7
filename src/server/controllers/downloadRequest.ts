// The download-request controller: every DownloadRequest in the server namespace gets, in its own
// supervised fiber, a URL for its target's file valid for the URL TTL (New → Processed with
// downloadURL and expiration). A target that cannot be served (no such backup, restore, location
// or file) is Processed without a URL; the status has no field for the reason, so it is logged.
// An unreachable API server or store is retried with backoff. A pass at start and then every
// period deletes the Processed requests whose expiration has passed.
import { DateTime, Duration, Effect, Either, Layer, Option, Schedule, Schema } from "effect"

import type { KubeObject } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import { ObjectStoreProvider } from "../../../services/ObjectStoreProvider.ts"
import { DownloadRequestSpec, formatDecodeError, toTimestamp } from "../../api/index.ts"
import { downloadRequestsGvr, isExpired, isProcessed } from "../../download/requests.ts"
import type { DownloadOutcome } from "../../download/sign.ts"
import { signDownload } from "../../download/sign.ts"
import { pruneRequests } from "../requestPruning.ts"
import type { ReconcileContext } from "../supervisor.ts"
import { supervise } from "../supervisor.ts"

export interface DownloadRequestControllerConfig {
  readonly namespace: string
  /** How long a download URL works; the request is deleted once it has passed. Default 10 minutes. */
  readonly urlTtl?: Duration.DurationInput
  /** Time between two passes deleting expired requests; default 1 minute. */
  readonly expiryPeriod?: Duration.DurationInput
  /** Requests signed at once; default 4. */
  readonly concurrency?: number
  /** Waits between attempts while the API server or the store is unreachable; default exponential from 1s, capped at 1m. */
  readonly retry?: Schedule.Schedule<unknown, unknown>
}

export const defaultUrlTtl: Duration.DurationInput = "10 minutes"
export const defaultExpiryPeriod: Duration.DurationInput = "1 minute"

export const defaultRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential(Duration.seconds(1)).pipe(
  Schedule.union(Schedule.spaced(Duration.minutes(1)))
)

const decodeSpec = Schema.decodeUnknownEither(DownloadRequestSpec)

/** `{ kind, name }` for logs, read without decoding. */
const describeTarget = (request: KubeObject): string => {
  const target =
    (request["spec"] as { readonly target?: { readonly kind?: unknown; readonly name?: unknown } } | undefined)?.target
  return `${String(target?.kind ?? "?")} ${JSON.stringify(String(target?.name ?? ""))}`
}

export const make = (config: DownloadRequestControllerConfig) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const objectStores = yield* ObjectStoreProvider
    const { namespace } = config
    const ttl = Duration.decode(config.urlTtl ?? defaultUrlTtl)
    const retry = config.retry ?? defaultRetry

    const patchStatus = (name: string, status: Record<string, unknown>) =>
      kube.patchStatus(downloadRequestsGvr, name, { type: "merge", body: { status } }, namespace)

    /** Processed with the URL, or without one; either way it expires and is deleted after the TTL. */
    const complete = (name: string, outcome: DownloadOutcome) =>
      Effect.gen(function*() {
        const expiration = toTimestamp(DateTime.addDuration(yield* DateTime.now, ttl))
        yield* patchStatus(name, {
          phase: "Processed",
          downloadURL: outcome._tag === "Signed" ? outcome.url : null,
          expiration
        })
      })

    const sign = (request: KubeObject, context: ReconcileContext) => {
      const spec = decodeSpec(request["spec"])
      if (Either.isLeft(spec)) {
        return Effect.succeed<DownloadOutcome>({
          _tag: "Unavailable",
          reason: `invalid spec: ${formatDecodeError(spec.left).join("; ")}`
        })
      }
      return context.limited(signDownload(spec.right.target, namespace, ttl)).pipe(
        Effect.provideService(KubeClient, kube),
        Effect.provideService(ObjectStoreProvider, objectStores)
      )
    }

    const processRequest = (uid: string, name: string, context: ReconcileContext) =>
      Effect.gen(function*() {
        const request = yield* kube.get(downloadRequestsGvr, name, namespace)
        if (request.metadata.uid !== uid || isProcessed(request)) return
        const outcome = yield* sign(request, context)
        yield* complete(name, outcome)
        if (outcome._tag === "Signed") {
          yield* Effect.logInfo(
            `download URL for ${describeTarget(request)} (${outcome.key}) valid for ${Duration.format(ttl)}`
          )
        } else {
          yield* Effect.logWarning(`no download URL for ${describeTarget(request)}: ${outcome.reason}`)
        }
      }).pipe(
        // The request, a Backup or the store may be unreachable for a while: try again until it is
        // served or deleted. Its status stays New meanwhile.
        Effect.tapError((error) =>
          error._tag === "KubeNotFound"
            ? Effect.void
            : Effect.logWarning("cannot serve the download request yet; trying again", error.message)
        ),
        Effect.retry({ schedule: retry, while: (error) => error._tag !== "KubeNotFound" }),
        Effect.catchTag("KubeNotFound", () => Effect.logInfo("download request deleted before it was served"))
      )

    const reconcile = (object: KubeObject, context: ReconcileContext) => {
      const { name, uid } = object.metadata
      if (name === undefined || uid === undefined || isProcessed(object)) return Option.none()
      return Option.some(processRequest(uid, name, context))
    }

    const expiryPass = pruneRequests({
      controller: "download-request",
      gvr: downloadRequestsGvr,
      namespace,
      period: config.expiryPeriod ?? defaultExpiryPeriod,
      what: "download request(s)",
      isExpired
    }).pipe(Effect.provideService(KubeClient, kube))
    yield* Effect.forkScoped(expiryPass)

    return yield* supervise({
      name: "download-request",
      gvr: downloadRequestsGvr,
      namespace,
      concurrency: config.concurrency ?? 4,
      reconcile,
      // Only a defect gets here (logged by the supervisor): no URL, and the request still expires.
      onFailure: (object) => complete(object.metadata.name ?? "", { _tag: "Unavailable", reason: "unexpected error" })
    })
  })

export const layer = (
  config: DownloadRequestControllerConfig
): Layer.Layer<never, never, KubeClient | ObjectStoreProvider> => Layer.scopedDiscard(Effect.forkScoped(make(config)))
