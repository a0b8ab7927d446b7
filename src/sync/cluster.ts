// The Backup resources of the server namespace, as sync sees them.
import { Effect, Either, Schema, Stream } from "effect"

import type { GroupVersionResource, KubeError, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { Backup as BackupSchema, group, kinds, version } from "../api/index.ts"
import { isImportedBackup, storageIdentityOfBackup } from "./markers.ts"
import type { ClusterBackup } from "./plan.ts"

export const backupsGvr: GroupVersionResource = { group, version, resource: kinds.Backup.plural }

const decodeBackup = Schema.decodeUnknownEither(BackupSchema)

export const toClusterBackup = (object: KubeObject): ClusterBackup => {
  const decoded = decodeBackup(object)
  return {
    name: object.metadata.name ?? "",
    uid: object.metadata.uid ?? "",
    phase: Either.isRight(decoded) ? decoded.right.status?.phase : undefined,
    // The decoded spec carries the default location; an unreadable Backup belongs to no location.
    storageLocation: Either.isRight(decoded) ? decoded.right.spec.storageLocation : undefined,
    imported: isImportedBackup(object),
    identity: storageIdentityOfBackup(object)
  }
}

export const listClusterBackups = (
  namespace: string
): Effect.Effect<ReadonlyArray<ClusterBackup>, KubeError, KubeClient> =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const pages = yield* Stream.runCollect(kube.listPages(backupsGvr, { namespace, limit: 500 }))
    return [...pages].flatMap((page) => page.items.map((object) => toClusterBackup(object)))
  })
