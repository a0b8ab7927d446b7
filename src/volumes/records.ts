// The snapshot records of a backup, stored as `<backup>-volumesnapshots.json.gz` (a gzipped JSON
// array): which PV's volume was snapshotted where, so a restore can bring it back and a deletion
// can remove it.
import { Chunk, Effect, Schema, Stream } from "effect"

import { ObjectStore } from "../../services/ObjectStore.ts"
import { gunzip, gzipText } from "../archive/gzip.ts"
import { backupKeys } from "../archive/layout.ts"

export const VolumeSnapshotRecord = Schema.Struct({
  pvName: Schema.String,
  providerVolumeId: Schema.String,
  availabilityZone: Schema.String,
  volumeType: Schema.String,
  iops: Schema.optionalWith(Schema.Number, { exact: true }),
  /** Empty when the snapshot failed before the provider returned an ID. */
  snapshotId: Schema.String,
  /** The VolumeSnapshotLocation that took it. */
  location: Schema.String,
  phase: Schema.Literal("Completed", "Failed"),
  error: Schema.optionalWith(Schema.String, { exact: true })
})
export type VolumeSnapshotRecord = typeof VolumeSnapshotRecord.Type

const RecordsJson = Schema.parseJson(Schema.Array(VolumeSnapshotRecord))

export const writeSnapshotRecords = Effect.fn("Volumes.writeRecords")(
  function*(backupName: string, records: ReadonlyArray<VolumeSnapshotRecord>) {
    const store = yield* ObjectStore
    yield* store.put(backupKeys(backupName).volumeSnapshots, gzipText(Stream.make(JSON.stringify(records))))
  }
)

const decoder = new TextDecoder()

/** The backup's records; a backup without the file (no volumes, or older) has none. */
export const readSnapshotRecords = Effect.fn("Volumes.readRecords")(function*(backupName: string) {
  const store = yield* ObjectStore
  const key = backupKeys(backupName).volumeSnapshots
  if (!(yield* store.exists(key))) return [] as ReadonlyArray<VolumeSnapshotRecord>
  const chunks = yield* Stream.runCollect(gunzip(store.get(key)))
  const text = decoder.decode(Buffer.concat(Chunk.toReadonlyArray(chunks)))
  return yield* Schema.decodeUnknown(RecordsJson)(text)
})
