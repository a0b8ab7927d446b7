// Follows one kind in one namespace: a full list, then a watch from the list's resourceVersion.
// A watch that ends is resumed from the last revision seen; 410 Gone relists; other errors
// back off and relist. The handler sees every object at least once after every (re)list.
import { Duration, Effect, Schedule, Stream } from "effect"

import type { GroupVersionResource, KubeError, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"

export type ResourceEvent =
  /** The whole current set; `initial` for the first list since the server started. */
  | { readonly _tag: "Listed"; readonly objects: ReadonlyArray<KubeObject>; readonly initial: boolean }
  | { readonly _tag: "Upserted"; readonly object: KubeObject }
  | { readonly _tag: "Deleted"; readonly object: KubeObject }

export interface InformerOptions {
  readonly gvr: GroupVersionResource
  readonly namespace: string
  /** Backoff between failed list/watch sessions. */
  readonly retry?: Schedule.Schedule<unknown, KubeError>
}

const LIST_PAGE = 500

/** Exponential from 500ms, capped at 30s: a down API server is polled, not hammered. */
export const defaultRetry: Schedule.Schedule<unknown, KubeError> = Schedule.exponential(Duration.millis(500)).pipe(
  Schedule.union(Schedule.spaced(Duration.seconds(30)))
)

/** Runs until interrupted; never fails. */
export const runInformer = <R>(
  options: InformerOptions,
  handle: (event: ResourceEvent) => Effect.Effect<void, never, R>
): Effect.Effect<never, never, KubeClient | R> =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const { gvr, namespace } = options
    let listedOnce = false

    const session = Effect.gen(function*() {
      const pages = yield* Stream.runCollect(kube.listPages(gvr, { namespace, limit: LIST_PAGE }))
      const objects = [...pages].flatMap((page) => page.items)
      let revision = [...pages].at(-1)?.resourceVersion ?? ""
      yield* handle({ _tag: "Listed", objects, initial: !listedOnce })
      listedOnce = true
      // A watch the server closes (timeout, restart) is resumed where it stopped; 410 ends the session.
      while (true) {
        yield* kube.watch(gvr, { namespace, resourceVersion: revision }).pipe(
          Stream.runForEach((event) => {
            revision = event.object.metadata.resourceVersion ?? revision
            switch (event.type) {
              case "BOOKMARK":
                return Effect.void
              case "DELETED":
                return handle({ _tag: "Deleted", object: event.object })
              default:
                return handle({ _tag: "Upserted", object: event.object })
            }
          })
        )
      }
    })

    const relistOnGone = session.pipe(
      Effect.catchTag("KubeGone", () => Effect.logDebug(`${gvr.resource}: watch expired (410), relisting`)),
      Effect.tapError((error) => Effect.logWarning(`${gvr.resource}: list/watch failed, retrying`, error.message))
    )
    return yield* relistOnGone.pipe(
      Effect.retry(options.retry ?? defaultRetry),
      Effect.forever,
      // The retry schedule is unbounded, so only a defect could end up here.
      Effect.orDie
    )
  })
