// What an encrypted backup leaves readable (README, "Trusting a backup"): its ark-backup.json is a
// minimal Backup, enough for sync, GC, verify, deletion and a restore's lookup; the whole resource
// (spec, labels, annotations) is stored encrypted beside it, read back only with an identity.
import { Effect, Either, Schema, Stream } from "effect"

import type { ObjectStore } from "../../services/ObjectStore.ts"
import type { Backup, BackupSpec } from "../api/backup.ts"
import { Backup as BackupSchema } from "../api/backup.ts"
import { formatDecodeError } from "../api/index.ts"
import { backupKeys } from "../archive/layout.ts"
import { decryptingStore } from "./encryption.ts"

export interface MinimalBackup extends Pick<Backup, "apiVersion" | "kind" | "status"> {
  readonly metadata: Pick<Backup["metadata"], "name" | "namespace">
  readonly spec: Pick<BackupSpec, "storageLocation" | "ttl">
}

/**
 * The Backup an encrypted backup's ark-backup.json holds: its name and namespace, where it is stored
 * and for how long, and its status (phase, times, counts, files, encryption, retention). The spec's
 * selectors, hooks and orders, and the labels and annotations, are in the encrypted resource only.
 */
export const minimalBackup = (backup: Backup): MinimalBackup => ({
  apiVersion: backup.apiVersion,
  kind: backup.kind,
  metadata: {
    ...(backup.metadata.name === undefined ? {} : { name: backup.metadata.name }),
    ...(backup.metadata.namespace === undefined ? {} : { namespace: backup.metadata.namespace })
  },
  spec: { storageLocation: backup.spec.storageLocation, ttl: backup.spec.ttl },
  ...(backup.status === undefined ? {} : { status: backup.status })
})

const decodeResource = Schema.decodeUnknownEither(Schema.parseJson(BackupSchema))

/**
 * The whole Backup of a committed encrypted backup, read with `identities`: the encrypted resource's
 * metadata and spec, with the status of `committed` (ark-backup.json, the signed one, which also
 * lists the resource file's digest). Fails with why it cannot be read.
 */
export const readWholeBackup = (
  store: ObjectStore.Shape,
  committed: Backup,
  identities: ReadonlyArray<string>
): Effect.Effect<Backup, string> => {
  const name = committed.metadata.name ?? ""
  const keys = backupKeys(name)
  return decryptingStore(store, keys, identities).get(keys.resource).pipe(
    Stream.decodeText(),
    Stream.mkString,
    Effect.mapError((error) => `${keys.resource}: ${error.message}`),
    Effect.flatMap((text) =>
      Either.match(decodeResource(text), {
        onLeft: (error) => Effect.fail(`${keys.resource} does not decode: ${formatDecodeError(error).join("; ")}`),
        onRight: (whole) =>
          whole.metadata.name === name
            ? Effect.succeed<Backup>({
              ...whole,
              ...(committed.status === undefined ? {} : { status: committed.status })
            })
            : Effect.fail(`${keys.resource} names backup ${JSON.stringify(whole.metadata.name ?? "")}`)
      })
    )
  )
}
