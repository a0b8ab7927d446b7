// Turns a DownloadRequest target into a URL: find the file's backup (a restore's files live in its
// backup's store), then sign the file's key for the TTL. What cannot be served (no such backup,
// restore, location or file) is an Unavailable outcome with the reason; what may pass (the API
// server or the store is unreachable) stays in the error channel, for the caller to retry.
import type { Duration } from "effect"
import { Effect, Either, Option, Schema } from "effect"

import type { GroupVersionResource } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { DownloadRequestSpec } from "../api/index.ts"
import { formatDecodeError, group, kinds, Restore, version } from "../api/index.ts"
import type { FoundBackup } from "../server/controllers/restoreSource.ts"
import { findBackup } from "../server/controllers/restoreSource.ts"
import { isRestoreTarget, targetKey } from "./targets.ts"

export type DownloadTarget = DownloadRequestSpec["target"]

export type DownloadOutcome =
  | { readonly _tag: "Signed"; readonly key: string; readonly url: string }
  | { readonly _tag: "Unavailable"; readonly reason: string }

const restoresGvr: GroupVersionResource = { group, version, resource: kinds.Restore.plural }

const unavailable = (reason: string): DownloadOutcome => ({ _tag: "Unavailable", reason })

const decodeRestore = Schema.decodeUnknownEither(Restore)

/** The backup whose store holds the target's file, or why there is none. */
const backupOf = Effect.fn("Download.backupOf")(function*(target: DownloadTarget, namespace: string) {
  if (!isRestoreTarget(target.kind)) return Either.right(target.name)
  const kube = yield* KubeClient
  const object = yield* kube.get(restoresGvr, target.name, namespace).pipe(
    Effect.map((found) => Option.some(found)),
    Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.none()))
  )
  if (Option.isNone(object)) return Either.left(`restore "${target.name}" not found in namespace ${namespace}`)
  const restore = decodeRestore(object.value)
  if (Either.isLeft(restore)) {
    return Either.left(`restore "${target.name}" is malformed: ${formatDecodeError(restore.left).join("; ")}`)
  }
  // A restore of a schedule gets its backupName once the restore controller has picked the backup.
  const backupName = restore.right.spec.backupName ?? ""
  return backupName === ""
    ? Either.left(`restore "${target.name}" names no backup yet`)
    : Either.right(backupName)
})

/** A URL for the target's file valid for `ttl`, or why it cannot be had. */
export const signDownload = Effect.fn("Download.sign")(
  function*(target: DownloadTarget, namespace: string, ttl: Duration.Duration) {
    const backupName = yield* backupOf(target, namespace)
    if (Either.isLeft(backupName)) return unavailable(backupName.left)
    const found: Either.Either<Option.Option<FoundBackup>, string> = yield* findBackup(backupName.right, namespace)
      .pipe(
        Effect.map((option) => Either.right(option)),
        Effect.catchTag("BackupUnreadable", (error) => Effect.succeed(Either.left(error.message)))
      )
    if (Either.isLeft(found)) return unavailable(found.left)
    if (Option.isNone(found.right)) {
      return unavailable(
        `backup "${backupName.right}" not found in namespace ${namespace} nor in any backup storage location`
      )
    }
    const store = found.right.value.store
    if (Either.isLeft(store)) return unavailable(store.left)
    const key = targetKey(target.kind, target.name)
    return yield* store.right.signedUrl(key, ttl).pipe(
      Effect.map((url): DownloadOutcome => ({ _tag: "Signed", key, url })),
      Effect.catchTag(
        "ObjectNotFound",
        () => Effect.succeed(unavailable(`${key} not found in the storage of backup "${backupName.right}"`))
      ),
      Effect.catchIf(
        (error) => error._tag === "ObjectStoreError" && !error.retryable,
        (error) => Effect.succeed(unavailable(`cannot sign ${key}: ${error.message}`))
      )
    )
  }
)
