// Requests (DeleteBackupRequests, DownloadRequests) are records of work done; once processed and
// past their time they only clutter the namespace. A pass at start and then every period deletes
// the ones its predicate calls expired. A pass that fails (the API server is down) is logged, and
// the next period tries again.
import type { Duration } from "effect"
import { Cause, DateTime, Effect, Schedule, Stream } from "effect"

import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"

export interface RequestPruning {
  readonly controller: string
  readonly gvr: GroupVersionResource
  readonly namespace: string
  readonly period: Duration.DurationInput
  /** Plural words for the log, e.g. "download request(s)". */
  readonly what: string
  readonly isExpired: (request: KubeObject, now: DateTime.Utc) => boolean
}

/** Deletes every expired request in the namespace; returns their names. */
export const deleteExpired = (pruning: RequestPruning) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const now = yield* DateTime.now
    const pages = yield* Stream.runCollect(kube.listPages(pruning.gvr, { namespace: pruning.namespace, limit: 500 }))
    const expired = [...pages].flatMap((page) => page.items).filter((request) => pruning.isExpired(request, now))
    return yield* Effect.forEach(expired, (request) => {
      const name = request.metadata.name ?? ""
      // Someone else (the user, another pass) deleting it first is fine.
      return kube.delete(pruning.gvr, name, pruning.namespace).pipe(
        Effect.catchTag("KubeNotFound", () => Effect.void),
        Effect.as(name)
      )
    })
  })

/** Runs forever; fork it in the controller's scope. */
export const pruneRequests = (pruning: RequestPruning) =>
  deleteExpired(pruning).pipe(
    Effect.flatMap((deleted) =>
      deleted.length === 0
        ? Effect.void
        : Effect.logInfo(`deleted ${deleted.length} expired ${pruning.what}: ${deleted.join(", ")}`)
    ),
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause) ? Effect.interrupt : Effect.logWarning(`${pruning.what} expiry pass failed`, cause)
    ),
    Effect.repeat(Schedule.spaced(pruning.period)),
    Effect.asVoid,
    Effect.annotateLogs({ controller: pruning.controller })
  )

/** When the object was created, if the API server said. */
export const createdAt = (object: KubeObject): DateTime.Utc | undefined => {
  const created = object.metadata.creationTimestamp
  if (created === undefined) return undefined
  const time = DateTime.make(created)
  return time._tag === "Some" ? DateTime.toUtc(time.value) : undefined
}
