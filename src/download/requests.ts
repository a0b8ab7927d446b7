// DownloadRequests as stored: their phase and expiration read without decoding (a malformed
// request still expires), and the pass that deletes the expired ones.
import { DateTime, Effect, Option, Stream } from "effect"
import { group, kinds, version } from "../api/index.ts"
import { phaseOf } from "../deletion/requests.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"

export const downloadRequestsGvr: GroupVersionResource = { group, version, resource: kinds.DownloadRequest.plural }

export const isProcessed = (request: KubeObject): boolean => phaseOf(request) === "Processed"

/** `status.expiration`, when it is a time. */
export const expirationOf = (request: KubeObject): Option.Option<DateTime.Utc> => {
  const status = request["status"]
  if (typeof status !== "object" || status === null) return Option.none()
  const expiration = (status as Record<string, unknown>)["expiration"]
  return typeof expiration === "string" ? Option.map(DateTime.make(expiration), (time) => DateTime.toUtc(time)) : Option.none()
}

/** A Processed request whose expiration is before `now`: its URL no longer works. */
export const isExpired = (request: KubeObject, now: DateTime.Utc): boolean =>
  isProcessed(request) &&
  Option.match(expirationOf(request), { onNone: () => false, onSome: (expiration) => DateTime.lessThan(expiration, now) })

/** Deletes every expired request in the namespace; returns their names. */
export const deleteExpiredRequests = Effect.fn("Download.deleteExpiredRequests")(function*(namespace: string) {
  const kube = yield* KubeClient
  const now = yield* DateTime.now
  const pages = yield* Stream.runCollect(kube.listPages(downloadRequestsGvr, { namespace, limit: 500 }))
  const expired = [...pages].flatMap((page) => page.items).filter((request) => isExpired(request, now))
  return yield* Effect.forEach(expired, (request) => {
    const name = request.metadata.name ?? ""
    // Someone else (the user, another pass) deleting it first is fine.
    return kube.delete(downloadRequestsGvr, name, namespace).pipe(
      Effect.catchTag("KubeNotFound", () => Effect.void),
      Effect.as(name)
    )
  })
})
