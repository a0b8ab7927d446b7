// A backup's files in object storage, from the CLI: which store holds them, and reading the
// gzipped logs and resource list (docs/design.md, "Storage layout").
import * as zlib from "node:zlib"

import * as NodeStream from "@effect/platform-node/NodeStream"
import { Data, Effect, Schema, Stream } from "effect"

import type { ObjectStore } from "../../../services/ObjectStore.ts"
import { ObjectNotFound } from "../../../services/ObjectStore.ts"
import { ObjectStoreProvider } from "../../../services/ObjectStoreProvider.ts"
import type { Backup } from "../../api/index.ts"
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
