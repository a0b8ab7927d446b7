// The backup a Restore reads and the store that holds its files: the Backup resource in the server
// namespace, else a committed backup (`ark-backup.json`) in one of the storage locations. The sync
// controller imports those as resources; a restore (a migration target) does not wait for it.
import type { KeyObject } from "node:crypto"

import { Data, Effect, Either, Option, Schema, Stream } from "effect"

import type { GroupVersionResource } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import type { ObjectStore } from "../../../services/ObjectStore.ts"
import { ObjectStoreProvider } from "../../../services/ObjectStoreProvider.ts"
import type { Backup, BackupStorageLocation } from "../../api/index.ts"
import {
  Backup as BackupSchema,
  formatDecodeError,
  group,
  kinds,
  nameSelector,
  namesIt,
  scheduleNameLabel,
  version
} from "../../api/index.ts"
import { backupKeys } from "../../archive/layout.ts"
import { readIdentities } from "../../integrity/encryption.ts"
import { readLocationKeys } from "../../integrity/signature.ts"
import { decodeLocation, getLocation, listLocations } from "../../locations/resolve.ts"

const backupsGvr: GroupVersionResource = { group, version, resource: kinds.Backup.plural }

/** The Backup resource exists but does not decode: a restore cannot trust its spec. */
export class BackupUnreadable
  extends Data.TaggedError("BackupUnreadable")<{ readonly name: string; readonly problems: ReadonlyArray<string> }>
{
  override get message() {
    return `backup "${this.name}" is malformed: ${this.problems.join("; ")}`
  }
}

export interface FoundBackup {
  readonly backup: Backup
  /** Where it was found: the cluster, or the storage location holding its ark-backup.json. */
  readonly foundIn: "cluster" | { readonly location: string }
  /** The store holding the backup's files, or why it cannot be opened. */
  readonly store: Either.Either<ObjectStore.Shape, string>
  /** The location's verification key: the backup must be signed by it and intact. */
  readonly verificationKey: Option.Option<KeyObject>
  /** The location's age identities, or why it has none: an encrypted backup needs them. */
  readonly identities: Either.Either<ReadonlyArray<string>, string>
}

/** Phases a restore may read from: finished backups only. */
export const isRestorable = (backup: Backup): boolean =>
  backup.status?.phase === "Completed" || backup.status?.phase === "PartiallyFailed"

const decodeBackup = Schema.decodeUnknownEither(BackupSchema)

/** The store of the backup's own storage location, or one line saying why there is none. */
const storeOfLocation = (locationName: string, backupName: string, namespace: string) =>
  Effect.gen(function*() {
    const location = yield* getLocation(namespace, locationName).pipe(Effect.either)
    if (Either.isLeft(location)) {
      const error = location.left
      return error._tag === "LocationNotFound" || error._tag === "LocationInvalid"
        ? Either.left(`backup "${backupName}" is stored in location "${locationName}": ${error.message}`)
        : Either.left(`cannot read backup storage location "${locationName}": ${error.message}`)
    }
    return yield* openWithKeys(location.right)
  })

/**
 * The location's verification key and identities beside its store; a verification key that cannot
 * be read makes the store unusable, identities only an encrypted backup.
 */
const withKeys = (location: BackupStorageLocation, store: ObjectStore.Shape) =>
  KubeClient.pipe(
    Effect.flatMap((kube) =>
      readLocationKeys(kube, location).pipe(
        Effect.mapError((error) =>
          `backup storage location "${location.metadata.name ?? ""}": its verification key: ${error.message}`
        ),
        Effect.zip(readIdentities(kube, location))
      )
    ),
    Effect.map(([keys, identities]) => ({ store, verificationKey: keys.verification, identities }))
  )

/** The location's store and verification key, or one line saying why it cannot be used. */
const openWithKeys = (location: BackupStorageLocation) =>
  ObjectStoreProvider.pipe(
    Effect.flatMap((provider) => provider.forLocation(location)),
    Effect.mapError((error) =>
      `backup storage location "${location.metadata.name ?? ""}" cannot be opened: ${error.message}`
    ),
    Effect.flatMap((store) => withKeys(location, store)),
    Effect.either
  )

type Opened = Either.Either<
  Omit<FoundBackup, "backup" | "foundIn" | "store"> & { readonly store: ObjectStore.Shape },
  string
>

const foundBackup = (backup: Backup, foundIn: FoundBackup["foundIn"], opened: Opened): FoundBackup => ({
  backup,
  foundIn,
  store: Either.map(opened, ({ store }) => store),
  verificationKey: Either.match(opened, { onLeft: () => Option.none(), onRight: (o) => o.verificationKey }),
  identities: Either.flatMap(opened, (o) => o.identities)
})

/** A committed backup in any location of the namespace; unreadable locations are skipped (logged). */
const findInStorage = (name: string, namespace: string) =>
  Effect.gen(function*() {
    const provider = yield* ObjectStoreProvider
    const objects = yield* listLocations(namespace)
    for (const object of objects) {
      const location = decodeLocation(object)
      if (Either.isLeft(location)) continue
      const locationName = location.right.metadata.name ?? ""
      const found = yield* Effect.gen(function*() {
        const store = yield* provider.forLocation(location.right)
        const key = backupKeys(name).metadata
        if (!(yield* store.exists(key))) return Option.none<FoundBackup>()
        const text = yield* store.get(key).pipe(Stream.decodeText(), Stream.mkString)
        const backup = yield* Schema.decodeUnknown(Schema.parseJson(BackupSchema))(text)
        // The store just opened serves the restore too; only the location's keys are read.
        const opened = yield* withKeys(location.right, store).pipe(Effect.either)
        return Option.some(foundBackup(backup, { location: locationName }, opened))
      }).pipe(
        Effect.catchAll((error) =>
          Effect.logWarning(`cannot look for backup ${name} in storage location ${locationName}: ${error.message}`)
            .pipe(
              Effect.as(Option.none<FoundBackup>())
            )
        )
      )
      if (Option.isSome(found)) return found
    }
    return Option.none<FoundBackup>()
  })

/** The named backup and its store, from the cluster or else from storage; None when neither has it. */
export const findBackup = Effect.fn("Restore.findBackup")(function*(name: string, namespace: string) {
  const kube = yield* KubeClient
  const object = yield* kube.get(backupsGvr, name, namespace).pipe(
    Effect.map((found) => Option.some(found)),
    Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.none()))
  )
  if (Option.isNone(object)) return yield* findInStorage(name, namespace)
  const decoded = decodeBackup(object.value)
  if (Either.isLeft(decoded)) return yield* new BackupUnreadable({ name, problems: formatDecodeError(decoded.left) })
  const backup = decoded.right
  const opened = yield* storeOfLocation(backup.spec.storageLocation, name, namespace)
  return Option.some(foundBackup(backup, "cluster", opened))
})

/** The newest Completed backup a schedule made (by completion, then creation time), by name. */
export const latestScheduledBackup = Effect.fn("Restore.latestScheduledBackup")(
  function*(schedule: string, namespace: string) {
    const kube = yield* KubeClient
    const pages = yield* Stream.runCollect(
      kube.listPages(backupsGvr, { namespace, labelSelector: nameSelector(scheduleNameLabel, schedule), limit: 500 })
    )
    const completed = [...pages]
      .flatMap((page) => page.items)
      .filter((object) => namesIt(object, scheduleNameLabel, schedule))
      .flatMap((object) => Either.getOrElse(Either.map(decodeBackup(object), (backup) => [backup]), () => []))
      .filter((backup) => backup.status?.phase === "Completed")
    const newest = (backup: Backup) => backup.status?.completionTimestamp ?? backup.metadata.creationTimestamp ?? ""
    const sorted = completed.sort((a, b) => newest(b).localeCompare(newest(a)))
    return Option.fromNullable(sorted[0]?.metadata.name)
  }
)
