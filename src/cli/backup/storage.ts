// A backup's files in object storage, from the CLI: which store holds them, and reading the
// gzipped logs and resource list (docs/design.md, "Storage layout").
import * as zlib from "node:zlib"

import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeStream from "@effect/platform-node/NodeStream"
import type { Option } from "effect"
import { Data, Effect, Either, Schema, Stream } from "effect"

import { KubeClient } from "../../../services/KubeClient.ts"
import type { ObjectStore } from "../../../services/ObjectStore.ts"
import { ObjectNotFound } from "../../../services/ObjectStore.ts"
import { ObjectStoreProvider } from "../../../services/ObjectStoreProvider.ts"
import type { Backup, BackupStorageLocation } from "../../api/index.ts"
import { parseIdentities } from "../../integrity/age.ts"
import { checkIdentity, isEncryptedBackup, readableStore, readIdentities } from "../../integrity/encryption.ts"
import { CliError } from "../errors.ts"
import { arkCommand } from "../namespace.ts"
import { getBackupStorageLocation } from "./kube.ts"

/** The backup's storage location (resource and store); the CLI talks to object storage directly. */
export const locationOf = (backup: Backup, namespace: string) =>
  Effect.gen(function*() {
    const locationName = backup.spec.storageLocation
    const { decoded: location } = yield* getBackupStorageLocation(locationName, namespace).pipe(
      Effect.mapError((error) =>
        new CliError({
          message: `backup "${backup.metadata.name ?? ""}" is stored in location "${locationName}": ${error.message}`,
          hint: error.hint ?? `${arkCommand(namespace, "backup-location get")} lists the locations`
        })
      )
    )
    const provider = yield* ObjectStoreProvider
    const store = yield* provider.forLocation(location).pipe(
      Effect.mapError((error) =>
        new CliError({
          message: `cannot open backup storage location "${locationName}": ${error.message}`,
          hint: `${arkCommand(namespace, `backup-location get ${locationName}`)} shows its phase and message`
        })
      )
    )
    return { location, store }
  })

export const identityHint =
  "pass --identity-file FILE: an age identity file (as age-keygen writes) holding a key the backup was encrypted for"

/** The age identities in `path` (`--identity-file`); a file that is not an identity file fails at once. */
export const readIdentityFile = (path: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(path).pipe(
      Effect.mapError((error) => new CliError({ message: `cannot read ${path}: ${error.message}`, hint: identityHint }))
    )
    return yield* Either.match(parseIdentities(text, path), {
      onLeft: (error) => Effect.fail(new CliError({ message: error.message, hint: identityHint })),
      onRight: (identities) => Effect.succeed(identities)
    })
  })

/**
 * The age identities that read an encrypted backup: `--identity-file`, else the location's identity
 * Secret, else why there are none.
 */
const identitiesOf = (location: BackupStorageLocation, identityFile: Option.Option<string>) =>
  identityFile._tag === "None"
    ? KubeClient.pipe(Effect.flatMap((kube) => readIdentities(kube, location)))
    : readIdentityFile(identityFile.value).pipe(Effect.map((identities) => Either.right(identities)))

/**
 * The store `backup`'s files are read through: decrypting for an encrypted backup (--identity-file).
 * The identity is tried on the tarball first: read through gunzip, a file it cannot open would
 * only say "unexpected end of file".
 */
export const readableStoreOf = (backup: Backup, namespace: string, identityFile: Option.Option<string>) =>
  Effect.gen(function*() {
    const { store, location } = yield* locationOf(backup, namespace)
    if (!isEncryptedBackup(backup)) return store
    const identities = yield* identitiesOf(location, identityFile)
    const failed = (why: string) => new CliError({ message: why, hint: identityHint })
    const readable = yield* Either.match(readableStore(store, backup, identities), {
      onLeft: (why) => Effect.fail(failed(why)),
      onRight: (decrypting) => Effect.succeed(decrypting)
    })
    if (Either.isRight(identities)) {
      yield* checkIdentity(store, backup.metadata.name ?? "", identities.right).pipe(
        Effect.mapError((why) => failed(why))
      )
    }
    return readable
  })

/** A storage failure while reading or writing the files of `backup`, as one line. */
export const storageFailure = (doing: string, backup: Backup) => (error: { readonly message: string }) =>
  new CliError({
    message: `${doing} in storage location "${backup.spec.storageLocation}": ${error.message}`,
    hint: `${
      arkCommand(backup.metadata.namespace ?? "", `backup-location get ${backup.spec.storageLocation}`)
    } shows whether the location is available`
  })

/**
 * The text lines of a gzipped object, decompressed as they stream in. A missing object is checked
 * first: once piped through gunzip, its ObjectNotFound would surface as "unexpected end of file".
 */
export const gunzipLines = (store: ObjectStore.Shape, key: string) =>
  Stream.unwrap(
    store.exists(key).pipe(
      Effect.filterOrFail((exists) => exists, () => new ObjectNotFound({ key })),
      Effect.as(
        store.get(key).pipe(
          NodeStream.pipeThroughDuplex(
            () => zlib.createGunzip(),
            (cause) =>
              new GzipError({
                key,
                message: `${key} is not valid gzip: ${cause instanceof Error ? cause.message : String(cause)}`
              })
          )
        )
      )
    )
  ).pipe(Stream.decodeText(), Stream.splitLines)

export class GzipError extends Data.TaggedError("GzipError")<{ readonly key: string; readonly message: string }> {}

/** `{"<apiVersion>/<Kind>": ["ns/name", ...]}`, as the backup wrote it. */
export const ResourceList = Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) })
export type ResourceList = typeof ResourceList.Type

export const readResourceList = (store: ObjectStore.Shape, key: string) =>
  gunzipLines(store, key).pipe(
    Stream.runFold("", (text, line) => text + line),
    Effect.flatMap((text) =>
      Schema.decodeUnknown(Schema.parseJson(ResourceList))(text).pipe(
        Effect.mapError((error) => new GzipError({ key, message: `${key} is not a resource list: ${error.message}` }))
      )
    )
  )
