// The point-in-time read (docs/design.md, "Backup semantics"): one revision, every list at
// exactly that revision, paginated, as a stream of objects. A 410 Gone is not handled here: it ends
// the stream, and the whole write starts over at a new revision (see run.ts), so nothing from the
// abandoned read is kept.
import { Effect, Option, Stream } from "effect"

import type { GroupVersionResource, KubeError, KubeObject, ListOptions } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { ListTarget } from "./select.ts"

export type Consistency = "Exact" | "BestEffort"

export const defaultPageSize = 500

const NAMESPACES: GroupVersionResource = { group: "", version: "v1", resource: "namespaces" }

/** The current revision: a one-item list is a quorum read, and its resourceVersion is the store's now. */
export const currentRevision = Effect.fn("Backup.currentRevision")(function*() {
  const client = yield* KubeClient
  const page = yield* client.listPages(NAMESPACES, { limit: 1 }).pipe(Stream.runHead)
  return Option.match(page, { onNone: () => "", onSome: (first) => first.resourceVersion })
})

/** Errors with which a server says it cannot serve an exact read (aggregated APIs): read the newest instead. */
const exactUnsupported = (error: KubeError): boolean =>
  error._tag === "KubeInvalid" || (error._tag === "KubeUnavailable" && error.status === 501)

export interface ReadOptions {
  readonly pageSize: number
  /** Called when this target could not be read at `revision`; the backup is then BestEffort. */
  readonly onInexact: (target: ListTarget, reason: string) => Effect.Effect<void>
}

/** The objects of one list target at `revision`, one chunk per page (backup/readAhead.ts reads ahead). */
export const readAtRevision = (
  target: ListTarget,
  revision: string,
  options: ReadOptions
): Stream.Stream<KubeObject, KubeError, KubeClient> =>
  Stream.unwrap(Effect.gen(function*() {
    const client = yield* KubeClient
    const { resource } = target
    const gvr: GroupVersionResource = { group: resource.group, version: resource.version, resource: resource.resource }
    const base: ListOptions = {
      limit: options.pageSize,
      ...(target.namespace === undefined ? {} : { namespace: target.namespace }),
      ...(target.labelSelector === undefined ? {} : { labelSelector: target.labelSelector })
    }
    let started = false
    const exact = client.listPages(gvr, { ...base, resourceVersion: revision, resourceVersionMatch: "Exact" }).pipe(
      Stream.tap((page) =>
        Effect.suspend(() => {
          const first = !started
          started = true
          // A server that ignores the exact read answers at another revision.
          return first && page.resourceVersion !== revision
            ? options.onInexact(target, `served revision ${page.resourceVersion || "(none)"} instead of ${revision}`)
            : Effect.void
        })
      ),
      Stream.catchAll((error) =>
        !started && exactUnsupported(error)
          ? Stream.unwrap(options.onInexact(target, error.message).pipe(Effect.as(client.listPages(gvr, base))))
          : Stream.fail(error)
      )
    )
    return exact.pipe(Stream.mapConcat((page) => page.items))
  }))
