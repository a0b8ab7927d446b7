// Client-side encryption of a backup's files with age (README, "Trusting a backup"). A location
// names recipients (public keys): the server encrypts every file of a new backup for them as it
// uploads, so it never holds what reads them back. Only ark-backup.json (and its signature) stays
// plain, and minimal (./minimal.ts): sync, GC and verify read it without a key. The identity (private keys) lives only where
// backups are read: a Secret in the restoring cluster, or a file given to the CLI.
import { Effect, Either, Option, Stream } from "effect"

import type { KubeClient } from "../../services/KubeClient.ts"
import type { ObjectStore } from "../../services/ObjectStore.ts"
import { ObjectStoreError } from "../../services/ObjectStore.ts"
import type { Backup } from "../api/backup.ts"
import type { BackupStorageLocation } from "../api/locations.ts"
import type { BackupKeys } from "../archive/layout.ts"
import { backupKeys } from "../archive/layout.ts"
import { AgeError, decrypting, encrypting, parseIdentities, parseRecipients } from "./age.ts"
import { readSecretText } from "./secrets.ts"
import { signatureKeyOf } from "./signature.ts"

/** What a location says about encryption; each absent when it names none. */
export interface LocationEncryption {
  /** The public keys new backups are encrypted for. */
  readonly recipients: Option.Option<ReadonlyArray<string>>
  /** The private keys encrypted backups are read with: why there are none, else the keys. */
  readonly identities: Either.Either<ReadonlyArray<string>, string>
}

const secretKeys = (
  kube: KubeClient.Shape,
  namespace: string,
  ref: { readonly name: string; readonly key: string },
  parse: (text: string, what: string) => Either.Either<ReadonlyArray<string>, AgeError>
) =>
  readSecretText(kube, namespace, ref).pipe(
    Effect.mapError((error) => new AgeError({ message: error.message })),
    Effect.flatMap((text) => parse(text, `Secret ${namespace}/${ref.name} key ${ref.key}`))
  )

/** The recipients of the location (its spec's and its Secret's together). */
export const readRecipients = (kube: KubeClient.Shape, location: BackupStorageLocation) =>
  Effect.gen(function*() {
    const encryption = location.spec.encryption
    const listed = encryption?.recipients ?? []
    const fromSecret = encryption?.recipientsSecret === undefined ? [] : yield* secretKeys(
      kube,
      location.metadata.namespace ?? "",
      encryption.recipientsSecret,
      parseRecipients
    )
    const recipients = [...listed, ...fromSecret]
    return recipients.length === 0 ? Option.none<ReadonlyArray<string>>() : Option.some(recipients)
  })

/** The location's identities, or why it has none; never fails, as most backups need none. */
export const readIdentities = (
  kube: KubeClient.Shape,
  location: BackupStorageLocation
): Effect.Effect<Either.Either<ReadonlyArray<string>, string>> => {
  const name = location.metadata.name ?? ""
  const ref = location.spec.encryption?.identitySecret
  if (ref === undefined) {
    return Effect.succeed(Either.left(
      `backup storage location "${name}" names no identity Secret (spec.encryption.identitySecret)`
    ))
  }
  return secretKeys(kube, location.metadata.namespace ?? "", ref, parseIdentities).pipe(
    Effect.mapError((error) => `backup storage location "${name}": its identity: ${error.message}`),
    Effect.either
  )
}

export const readLocationEncryption = (kube: KubeClient.Shape, location: BackupStorageLocation) =>
  Effect.all({ recipients: readRecipients(kube, location), identities: readIdentities(kube, location) })

/** The files stored encrypted: all of the backup's but ark-backup.json and its signature. */
const isEncrypted = (keys: BackupKeys, key: string) =>
  key.startsWith(keys.dir) && key !== keys.metadata && key !== signatureKeyOf(keys.metadata)

const storeError = (operation: string, key: string) => <E>(error: E | AgeError) =>
  error instanceof AgeError
    ? new ObjectStoreError({ operation, key, retryable: false, message: `${key}: ${error.message}` })
    : error

/** A store that encrypts the backup's files for `recipients` as they upload. */
export const encryptingStore = (
  store: ObjectStore.Shape,
  keys: BackupKeys,
  recipients: ReadonlyArray<string>
): ObjectStore.Shape => ({
  ...store,
  put: (key, body) =>
    isEncrypted(keys, key)
      ? store.put(key, encrypting(recipients, body).pipe(Stream.mapError(storeError("encrypt", key))))
      : store.put(key, body)
})

/** A store that decrypts the backup's files with `identities` as they download. */
export const decryptingStore = (
  store: ObjectStore.Shape,
  keys: BackupKeys,
  identities: ReadonlyArray<string>
): ObjectStore.Shape => ({
  ...store,
  get: (key) =>
    isEncrypted(keys, key)
      ? decrypting(identities, store.get(key)).pipe(Stream.mapError(storeError("decrypt", key)))
      : store.get(key)
})

export const isEncryptedBackup = (backup: Backup) => backup.status?.encryption === "age"

/**
 * The store to read `backup`'s files through: itself for a plain backup, a decrypting one for an
 * encrypted backup, or why an encrypted one cannot be read.
 */
export const readableStore = (
  store: ObjectStore.Shape,
  backup: Backup,
  identities: Either.Either<ReadonlyArray<string>, string>
): Either.Either<ObjectStore.Shape, string> => {
  if (!isEncryptedBackup(backup)) return Either.right(store)
  const keys = backupKeys(backup.metadata.name ?? "")
  return Either.match(identities, {
    onLeft: (why) => Either.left(`backup "${backup.metadata.name ?? ""}" is encrypted with age: ${why}`),
    onRight: (held) => Either.right(decryptingStore(store, keys, held))
  })
}

/**
 * Opens the header of the backup's tarball with the identities and authenticates its first chunk:
 * a restore learns that its identity is wrong before it reads, or creates, anything.
 */
export const checkIdentity = (store: ObjectStore.Shape, backupName: string, identities: ReadonlyArray<string>) =>
  decrypting(identities, store.get(backupKeys(backupName).tarball)).pipe(
    Stream.take(1),
    Stream.runDrain,
    Effect.mapError((error) =>
      `backup "${backupName}" cannot be decrypted with the identity: ${
        error._tag === "AgeError" ? error.message.replace(/^decrypting: /, "") : error.message
      }`
    )
  )
