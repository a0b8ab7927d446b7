// The restore controller: every new Restore in the server namespace is validated against its
// backup, then run by the restore pipeline (src/restore) in its own supervised fiber, under the
// --restore-concurrency limit. Status flow: New → FailedValidation, or New → InProgress →
// Completed | PartiallyFailed | Failed.
import { DateTime, Duration, Effect, Either, Layer, Option, Schema } from "effect"

import { BlockStoreProvider } from "../../../services/BlockStoreProvider.ts"
import type { GroupVersionResource, KubeObject } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import { ObjectStore } from "../../../services/ObjectStore.ts"
import type { ObjectStoreProvider } from "../../../services/ObjectStoreProvider.ts"
import type { Backup, Restore, RestoreStatus } from "../../api/index.ts"
import { formatDecodeError, group, kinds, Restore as RestoreSchema, toTimestamp, version } from "../../api/index.ts"
import { backupKeys } from "../../archive/layout.ts"
import { checkingStore } from "../../integrity/digest.ts"
import { checkIdentity, decryptingStore, isEncryptedBackup } from "../../integrity/encryption.ts"
import { verifyBackup } from "../../integrity/verify.ts"
import { loadResourceModifiers } from "../../restore/modifiers/load.ts"
import { executeRestore, validateRestore } from "../../restore/run.ts"
import { observeRestore, restoreMetrics, restoreSchedule, restoreValidationFailed } from "../metrics.ts"
import { throttledProgress } from "../progress.ts"
import type { ReconcileContext } from "../supervisor.ts"
import { failureReason, supervise } from "../supervisor.ts"
import { findBackup, latestScheduledBackup } from "./restoreSource.ts"

export const restoresGvr: GroupVersionResource = { group, version, resource: kinds.Restore.plural }

export interface RestoreControllerConfig {
  readonly namespace: string
  /** Restores run at once (`--restore-concurrency`); more wait in phase New. */
  readonly concurrency: number
  /** At most one status.progress write per interval while a restore runs. Default 1s. */
  readonly progressInterval?: Duration.DurationInput
}

export const interruptedByRestart =
  "the server stopped while this restore was in progress; run it again under a new name"
export const interruptedByShutdown =
  "the server shut down while this restore was in progress; run it again under a new name"

const phaseOf = (object: KubeObject): string | undefined => {
  const status = object["status"]
  if (typeof status !== "object" || status === null) return undefined
  const phase = (status as Record<string, unknown>)["phase"]
  return typeof phase === "string" ? phase : undefined
}

const isNew = (object: KubeObject) => {
  const phase = phaseOf(object)
  return phase === undefined || phase === "" || phase === "New"
}

const decodeRestore = Schema.decodeUnknownEither(RestoreSchema)

/** A Restore ready to run: its backup resolved (a schedule's latest), and the store of that backup. */
interface Prepared {
  readonly restore: Restore
  readonly backupName: string
  readonly backup: Option.Option<Backup>
  readonly store: ObjectStore.Shape
  /** The identities an encrypted backup is read with. */
  readonly identities: Option.Option<ReadonlyArray<string>>
}

type Preparation = Either.Either<Prepared, ReadonlyArray<string>>

const invalid = (...problems: ReadonlyArray<string>): Preparation => Either.left(problems)
const ready = (prepared: Prepared): Preparation => Either.right(prepared)

const readingStore = (prepared: Prepared) => {
  const keys = backupKeys(prepared.backupName)
  const checked = checkingStore(
    prepared.store,
    keys.dir,
    Option.match(prepared.backup, { onNone: () => [], onSome: (backup) => backup.status?.files ?? [] })
  )
  return Option.match(prepared.identities, {
    onNone: () => checked,
    onSome: (identities) => decryptingStore(checked, keys, identities)
  })
}

export const make = (config: RestoreControllerConfig) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const { namespace } = config
    const progressInterval = config.progressInterval ?? Duration.seconds(1)
    // `ark server` provides it; without it snapshotted PVs fail to restore with a clear message.
    const blockStores = yield* Effect.serviceOption(BlockStoreProvider)

    const patchStatus = (name: string, status: Partial<RestoreStatus> | Record<string, unknown>) =>
      kube.patchStatus(restoresGvr, name, { type: "merge", body: { status } }, namespace)

    const now = DateTime.now.pipe(Effect.map((time) => toTimestamp(time)))

    const markFailed = (name: string, reason: string) =>
      now.pipe(Effect.flatMap((completionTimestamp) =>
        patchStatus(name, { phase: "Failed", failureReason: reason, completionTimestamp })
      ))

    /** Every problem with the Restore, or what it needs to run. */
    const prepare = Effect.fn("RestoreController.prepare")(function*(object: KubeObject) {
      const decoded = decodeRestore(object)
      if (Either.isLeft(decoded)) {
        return invalid(...formatDecodeError(decoded.left))
      }
      const restore = decoded.right
      const backupName = restore.spec.backupName ?? ""
      const scheduleName = restore.spec.scheduleName ?? ""
      const resolved: Option.Option<string> = backupName !== ""
        ? Option.some(backupName)
        : scheduleName !== ""
        ? yield* latestScheduledBackup(scheduleName, namespace)
        : Option.none()
      if (Option.isNone(resolved)) {
        return invalid(
          scheduleName !== ""
            ? `spec.scheduleName: schedule "${scheduleName}" has no Completed backup to restore from`
            : "spec.backupName: a restore needs a backup (spec.backupName) or a schedule (spec.scheduleName)"
        )
      }
      const withBackup: Restore = { ...restore, spec: { ...restore.spec, backupName: resolved.value } }
      const lookup = yield* findBackup(resolved.value, namespace).pipe(
        Effect.map((found) =>
          Either.right(found)
        ),
        Effect.catchTag("BackupUnreadable", (error) => Effect.succeed(Either.left(error.message)))
      )
      if (Either.isLeft(lookup)) return invalid(lookup.left)
      const found = lookup.right
      const backup = Option.map(found, (source) => source.backup)
      const modifiers = yield* loadResourceModifiers(restore.spec, namespace)
      const problems = [
        ...validateRestore(withBackup, backup, yield* kube.discover),
        ...Either.match(modifiers, { onLeft: (problems) => problems, onRight: () => [] })
      ]
      if (problems.length > 0) return invalid(...problems)
      // validateRestore names a missing backup; this only narrows the types.
      if (Option.isNone(found)) return invalid(`backup "${resolved.value}" not found`)
      if (Either.isLeft(found.value.store)) return invalid(found.value.store.left)
      const store = found.value.store.right
      // An encrypted backup: its identity must open the tarball before the restore is accepted.
      let identities = Option.none<ReadonlyArray<string>>()
      if (Option.exists(backup, isEncryptedBackup)) {
        const held = found.value.identities
        if (Either.isLeft(held)) return invalid(`backup "${resolved.value}" is encrypted with age: ${held.left}`)
        const opened = yield* checkIdentity(store, resolved.value, held.right).pipe(Effect.either)
        if (Either.isLeft(opened)) return invalid(opened.left)
        identities = Option.some(held.right)
      }
      // A location that verifies: the backup is read back whole, and used only if signed and intact.
      if (Option.isSome(found.value.verificationKey)) {
        const { problems } = yield* verifyBackup(store, resolved.value, {
          verificationKey: found.value.verificationKey.value,
          identities: Option.getOrUndefined(identities)
        }).pipe(
          Effect.catchAll((error) => Effect.succeed({ problems: [`the location cannot be read: ${error.message}`] }))
        )
        if (problems.length > 0) {
          return invalid(`backup "${resolved.value}" failed verification: ${problems.join("; ")}`)
        }
      }
      return ready({ restore: withBackup, backupName: resolved.value, backup, store, identities })
    })

    const run = Effect.fn("RestoreController.run")(function*(object: KubeObject, prepared: Prepared) {
      const name = object.metadata.name ?? ""
      // A Restore of a schedule records which backup it read, as Velero does.
      const current =
        object["spec"] !== undefined && (object["spec"] as { backupName?: unknown }).backupName === prepared.backupName
          ? object
          : yield* kube.patch(
            restoresGvr,
            name,
            { type: "merge", body: { spec: { backupName: prepared.backupName } } },
            namespace
          )
      const startTimestamp = yield* now
      // A full update: it conflicts if anyone touched the Restore since it was read.
      const started = yield* kube.updateStatus(restoresGvr, {
        ...current,
        status: { ...(current["status"] as object | undefined), phase: "InProgress", startTimestamp }
      })
      const restore: Restore = {
        ...prepared.restore,
        metadata: {
          ...prepared.restore.metadata,
          ...(started.metadata.resourceVersion === undefined
            ? {}
            : { resourceVersion: started.metadata.resourceVersion })
        },
        status: { ...prepared.restore.status, phase: "InProgress", startTimestamp }
      }
      yield* Effect.logInfo(`restore started from backup ${prepared.backupName}`)
      const finished = yield* Effect.scoped(
        // progress.ts speaks of items backed up; a restore's items restored ride in the same field.
        throttledProgress(
          (progress) =>
            patchStatus(name, { progress: { totalItems: progress.totalItems, itemsRestored: progress.itemsBackedUp } })
              .pipe(
                Effect.asVoid
              ),
          progressInterval
        ).pipe(
          Effect.flatMap((report) =>
            executeRestore(restore, prepared.backup, {
              ...Option.match(blockStores, {
                onNone: () => ({}),
                onSome: (provider) => ({ volumes: { blockStores: provider } })
              }),
              onProgress: (progress) =>
                report({ totalItems: progress.totalItems, itemsBackedUp: progress.itemsRestored })
            })
          )
        )
      ).pipe(
        // The plan's pass over the tarball checks it against the digests the backup recorded, so a
        // changed file fails the restore before anything is created; an encrypted one is decrypted
        // after the check, as the digests are of the bytes stored.
        Effect.provideService(ObjectStore, readingStore(prepared)),
        Effect.provideService(KubeClient, kube),
        Effect.onInterrupt(() =>
          markFailed(name, interruptedByShutdown).pipe(Effect.timeout(Duration.seconds(5)), Effect.ignore)
        ),
        observeRestore(restoreSchedule(object))
      )
      yield* patchStatus(name, finished.restore.status ?? {})
      const window = finished.window === undefined
        ? ""
        : `, concurrency settled at ${finished.window.size} (peak ${finished.window.peak}, ${finished.window.throttled} requests throttled)`
      yield* Effect.logInfo(`restore finished: ${finished.restore.status?.phase ?? "unknown"}${window}`)
    })

    /** A Restore in phase New: validate it, then run it under a concurrency permit. */
    const processNew = (uid: string, name: string, context: ReconcileContext) =>
      Effect.gen(function*() {
        const object = yield* kube.get(restoresGvr, name, namespace)
        if (object.metadata.uid !== uid || !isNew(object)) return
        const prepared = yield* prepare(object)
        if (Either.isLeft(prepared)) {
          const problems = prepared.left
          yield* patchStatus(name, { phase: "FailedValidation", validationErrors: problems })
          yield* restoreValidationFailed(restoreSchedule(object))
          return yield* Effect.logInfo(`restore failed validation: ${problems.join("; ")}`)
        }
        yield* context.limited(
          // Re-read under the permit: the Restore may have changed (or gone) while it waited.
          kube.get(restoresGvr, name, namespace).pipe(
            Effect.flatMap((current) =>
              current.metadata.uid === uid && isNew(current) ? run(current, prepared.right) : Effect.void
            )
          )
        )
      }).pipe(
        // Someone wrote the Restore between our read and the InProgress update: read it again.
        Effect.retry({ while: (error) => error._tag === "KubeConflict", times: 5 }),
        Effect.catchTag("KubeNotFound", () => Effect.logInfo("restore deleted before it ran"))
      )

    const reconcile = (object: KubeObject, context: ReconcileContext) => {
      const { name, uid } = object.metadata
      if (name === undefined || uid === undefined) return Option.none()
      if (isNew(object)) return Option.some(processNew(uid, name, context))
      if (context.initial && phaseOf(object) === "InProgress") {
        return Option.some(
          markFailed(name, interruptedByRestart).pipe(
            Effect.zipRight(Effect.logWarning("restore was InProgress when the server started: marked Failed")),
            Effect.asVoid
          )
        )
      }
      return Option.none()
    }

    return yield* supervise({
      name: "restore",
      gvr: restoresGvr,
      namespace,
      concurrency: config.concurrency,
      reconcile,
      onFailure: (object, cause) => markFailed(object.metadata.name ?? "", failureReason(cause)),
      population: restoreMetrics.existing
    })
  })

export const layer = (
  config: RestoreControllerConfig
): Layer.Layer<never, never, KubeClient | ObjectStoreProvider> => Layer.scopedDiscard(Effect.forkScoped(make(config)))
