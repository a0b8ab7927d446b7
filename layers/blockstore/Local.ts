// The local BlockStore: hostPath and `local` PVs are directories on this machine (kwok's nodes
// are this machine), so a snapshot is a copy of the directory tree under `<root>/snapshots/<id>/`
// and a restored volume a fresh copy under `<root>/volumes/<id>/`. For development and tests.
import * as fs from "node:fs/promises"
import * as path from "node:path"

import { Clock, Effect, Layer, Option } from "effect"

import type { VolumeInfo } from "../../services/BlockStore.ts"
import { BlockStore, BlockStoreError, SnapshotNotFound, VolumeNotFound } from "../../services/BlockStore.ts"
import type { KubeObject } from "../../services/KubeClient.ts"

export interface LocalBlockStoreConfig {
  /** The snapshot store: the VolumeSnapshotLocation's `config.path`. */
  readonly root: string
}

type Source = "hostPath" | "local"
const SOURCES: ReadonlyArray<Source> = ["hostPath", "local"]

/** IDs this store made; anything else (`..`, slashes) never names a path under the root. */
const SNAPSHOT_ID = /^snap-[0-9]+-[0-9]+$/

const record = (value: unknown): Readonly<Record<string, unknown>> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined

/** The PV's directory and which source holds it. */
const pvDirectory = (pv: KubeObject): Option.Option<{ readonly source: Source; readonly path: string }> => {
  const spec = record(pv["spec"])
  for (const source of SOURCES) {
    const dir = record(spec?.[source])?.["path"]
    if (typeof dir === "string" && dir !== "") return Option.some({ source, path: dir })
  }
  return Option.none()
}

const errorCode = (cause: unknown): string | undefined => {
  const code = record(cause)?.["code"]
  return typeof code === "string" ? code : undefined
}

const describe = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

/** Copies a directory tree with modes, timestamps and symlinks as they are. */
const copyTree = (from: string, to: string) =>
  fs.cp(from, to, {
    recursive: true,
    preserveTimestamps: true,
    verbatimSymlinks: true,
    errorOnExist: true,
    force: false
  })

export const make = (config: LocalBlockStoreConfig): Effect.Effect<BlockStore.Shape> =>
  Effect.sync(() => {
    const root = path.resolve(config.root)
    const snapshotsDir = path.join(root, "snapshots")
    const volumesDir = path.join(root, "volumes")
    // Which source a directory came from, so volume info can say hostPath or local.
    const sources = new Map<string, Source>()
    let counter = 0

    const io = <A>(operation: string, what: string, run: () => Promise<A>) =>
      Effect.tryPromise({
        try: run,
        catch: (cause) => new BlockStoreError({ operation, message: `${what}: ${describe(cause)}`, cause })
      })

    /** A new ID under `dir`: Clock time plus a counter, skipping any already taken. */
    const freshId = (operation: string, kind: "snap" | "vol", dir: string) =>
      Effect.gen(function*() {
        const millis = yield* Clock.currentTimeMillis
        for (;;) {
          counter += 1
          const id = `${kind}-${millis}-${String(counter).padStart(4, "0")}`
          const taken = yield* io(operation, `cannot check ${dir}`, () =>
            fs.stat(path.join(dir, id)).then(() => true, (cause: unknown) => {
              if (errorCode(cause) === "ENOENT") {
                return false
              }
              throw cause
            }))
          if (!taken) {
            return id
          }
        }
      })

    const isDirectory = (operation: string, dir: string) =>
      io(operation, `cannot read ${dir}`, () =>
        fs.stat(dir).then((stats) => stats.isDirectory(), (cause: unknown) => {
          if (errorCode(cause) === "ENOENT" || errorCode(cause) === "ENOTDIR") return false
          throw cause
        }))

    /** Copies `from` to `<dir>/<id>` through a temporary sibling, so `<dir>/<id>` is whole or absent. */
    const copyInto = (operation: string, from: string, dir: string, id: string) =>
      Effect.gen(function*() {
        const target = path.join(dir, id)
        const temporary = path.join(dir, `.tmp-${id}`)
        yield* io(operation, `cannot create ${dir}`, () => fs.mkdir(dir, { recursive: true }))
        yield* io(operation, `cannot copy ${from} to ${temporary}`, async () => {
          await fs.rm(temporary, { recursive: true, force: true })
          await copyTree(from, temporary)
          await fs.rename(temporary, target)
        }).pipe(
          Effect.tapError(() =>
            Effect.promise(() => fs.rm(temporary, { recursive: true, force: true }).catch(() => undefined))
          )
        )
        return target
      })

    const getVolumeId = (pv: KubeObject) =>
      Effect.sync(() =>
        pvDirectory(pv).pipe(
          Option.map(({ path: dir, source }) => {
            sources.set(dir, source)
            return dir
          })
        )
      )

    const setVolumeId = (pv: KubeObject, volumeId: string) =>
      Option.match(pvDirectory(pv), {
        onNone: () =>
          Effect.fail(
            new BlockStoreError({
              operation: "setVolumeId",
              message: `persistent volume ${pv.metadata.name ?? ""} has no hostPath or local volume source`
            })
          ),
        onSome: ({ source }) => {
          const spec = record(pv["spec"]) ?? {}
          return Effect.succeed<KubeObject>({
            ...pv,
            spec: { ...spec, [source]: { ...record(spec[source]), path: volumeId } }
          })
        }
      })

    const getVolumeInfo = Effect.fn("LocalBlockStore.getVolumeInfo")(
      function*(volumeId: string, _availabilityZone?: string) {
        if (!(yield* isDirectory("getVolumeInfo", volumeId))) return yield* new VolumeNotFound({ volumeId })
        const info: VolumeInfo = {
          volumeId,
          availabilityZone: "local",
          volumeType: sources.get(volumeId) ?? "hostPath"
        }
        return info
      }
    )

    const createSnapshot = Effect.fn("LocalBlockStore.createSnapshot")(function*(
      volumeId: string,
      _availabilityZone: string,
      tags: Readonly<Record<string, string>>
    ) {
      if (!(yield* isDirectory("createSnapshot", volumeId))) return yield* new VolumeNotFound({ volumeId })
      const snapshotId = yield* freshId("createSnapshot", "snap", snapshotsDir)
      yield* copyInto("createSnapshot", volumeId, snapshotsDir, snapshotId)
      // Beside the tree, not in it, so a restored volume holds exactly the volume's files.
      yield* io("createSnapshot", `cannot record snapshot ${snapshotId}`, () =>
        fs.writeFile(
          path.join(snapshotsDir, `${snapshotId}.json`),
          JSON.stringify({ snapshotId, volumeId, tags }, null, 2) + "\n"
        ))
      return snapshotId
    })

    // Deleting a snapshot that is already gone succeeds, as with EBS.
    const deleteSnapshot = Effect.fn("LocalBlockStore.deleteSnapshot")(function*(snapshotId: string) {
      if (!SNAPSHOT_ID.test(snapshotId)) {
        return yield* new BlockStoreError({
          operation: "deleteSnapshot",
          message: `${JSON.stringify(snapshotId)} is not a local snapshot ID`
        })
      }
      yield* io("deleteSnapshot", `cannot delete snapshot ${snapshotId}`, async () => {
        await fs.rm(path.join(snapshotsDir, snapshotId), { recursive: true, force: true })
        await fs.rm(path.join(snapshotsDir, `${snapshotId}.json`), { force: true })
      })
    })

    const createVolumeFromSnapshot = Effect.fn("LocalBlockStore.createVolumeFromSnapshot")(function*(
      snapshotId: string,
      _volumeType: string,
      _availabilityZone: string,
      _iops?: number
    ) {
      const snapshotDir = path.join(snapshotsDir, snapshotId)
      if (!SNAPSHOT_ID.test(snapshotId) || !(yield* isDirectory("createVolumeFromSnapshot", snapshotDir))) {
        return yield* new SnapshotNotFound({ snapshotId })
      }
      const volumeId = yield* freshId("createVolumeFromSnapshot", "vol", volumesDir)
      return yield* copyInto("createVolumeFromSnapshot", snapshotDir, volumesDir, volumeId)
    })

    const store: BlockStore.Shape = {
      getVolumeId,
      setVolumeId,
      getVolumeInfo,
      createSnapshot,
      deleteSnapshot,
      createVolumeFromSnapshot
    }
    return store
  })

export const layer = (config: LocalBlockStoreConfig): Layer.Layer<BlockStore> => Layer.effect(BlockStore, make(config))
