// The Restores of a backup: found by spec.backupName (the restore controller writes it even for a
// restore of a schedule), and deleted with their files under restores/<restore>/.
import { Effect, Either, Stream } from "effect"

import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { ObjectStore } from "../../services/ObjectStore.ts"
import { group, kinds, version } from "../api/index.ts"
import { restoreKeys } from "../archive/layout.ts"
import { phaseOf } from "./requests.ts"

export const restoresGvr: GroupVersionResource = { group, version, resource: kinds.Restore.plural }

const backupNameOf = (restore: KubeObject): string | undefined => {
  const spec = restore["spec"]
  if (typeof spec !== "object" || spec === null) return undefined
  const name = (spec as Record<string, unknown>)["backupName"]
  return typeof name === "string" ? name : undefined
}

/** Every Restore in the namespace whose spec.backupName is `backupName`, sorted by name. */
export const restoresOf = (backupName: string, namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const pages = yield* Stream.runCollect(kube.listPages(restoresGvr, { namespace, limit: 500 }))
    return [...pages]
      .flatMap((page) => page.items)
      .filter((restore) => backupNameOf(restore) === backupName)
      .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""))
  })

export const isRunning = (restore: KubeObject): boolean => phaseOf(restore) === "InProgress"

/**
 * Deletes one restore's files, then its resource; one line per failure. A failure keeps the
 * resource, so the next attempt finds the restore again.
 */
export const deleteRestore = Effect.fn("Deletion.deleteRestore")(function*(
  restore: KubeObject,
  store: ObjectStore.Shape,
  namespace: string
) {
  const kube = yield* KubeClient
  const name = restore.metadata.name ?? ""
  const failures: Array<string> = []
  const listing = yield* store.list(restoreKeys(name).dir).pipe(Effect.either)
  if (Either.isLeft(listing)) return [`cannot list the files of restore "${name}": ${listing.left.message}`]
  for (const object of listing.right.objects) {
    const deleted = yield* store.delete(object.key).pipe(Effect.either)
    if (Either.isLeft(deleted)) {
      failures.push(`cannot delete ${object.key} of restore "${name}": ${deleted.left.message}`)
    }
  }
  if (failures.length > 0) return failures
  const removed = yield* kube.delete(restoresGvr, name, namespace).pipe(
    Effect.catchTag("KubeNotFound", () => Effect.void),
    Effect.either
  )
  return Either.isLeft(removed) ? [`cannot delete restore "${name}": ${removed.left.message}`] : []
})
