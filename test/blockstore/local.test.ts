// The local BlockStore on temporary directories: byte-identical, mode-preserving round trips.
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"

import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"

import * as LocalBlockStore from "../../layers/blockstore/Local.ts"
import type { KubeObject } from "../../services/KubeClient.ts"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => fs.mkdtemp(join(tmpdir(), "ark-local-blockstore-"))),
  (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
)

/** Every file, directory and symlink under `dir`: relative path → kind, mode and content hash. */
const fingerprint = (dir: string) =>
  Effect.promise(async () => {
    const entries: Record<string, string> = {}
    const walk = async (current: string): Promise<void> => {
      for (const entry of await fs.readdir(current, { withFileTypes: true })) {
        const full = join(current, entry.name)
        const stats = await fs.lstat(full)
        const mode = (stats.mode & 0o7777).toString(8)
        const name = relative(dir, full)
        if (entry.isSymbolicLink()) entries[name] = `link ${await fs.readlink(full)}`
        else if (entry.isDirectory()) {
          entries[name] = `dir ${mode}`
          await walk(full)
        } else entries[name] = `file ${mode} ${createHash("sha256").update(await fs.readFile(full)).digest("hex")}`
      }
    }
    await walk(dir)
    return entries
  })

/** A volume with nested directories, a binary file, an executable, a read-only file and a symlink. */
const writeVolume = (dir: string) =>
  Effect.promise(async () => {
    await fs.mkdir(join(dir, "db", "wal"), { recursive: true })
    await fs.writeFile(join(dir, "db", "data.txt"), "rows\n")
    await fs.writeFile(
      join(dir, "db", "wal", "000001.log"),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))
    )
    await fs.writeFile(join(dir, "run.sh"), "#!/bin/sh\necho hi\n", { mode: 0o755 })
    await fs.writeFile(join(dir, "secret.key"), "k", { mode: 0o600 })
    await fs.chmod(join(dir, "db", "wal"), 0o700)
    await fs.symlink("db/data.txt", join(dir, "current"))
    await fs.writeFile(join(dir, "empty"), "")
  })

const hostPathPv = (path: string): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name: "pv-data" },
  spec: { capacity: { storage: "1Gi" }, hostPath: { path, type: "DirectoryOrCreate" }, storageClassName: "manual" }
})

describe("Local BlockStore", () => {
  it.scoped("snapshots a directory and restores it, byte-identical, into a new directory", () =>
    Effect.gen(function*() {
      const work = yield* tempDir
      const volume = join(work, "node", "pv-data")
      yield* Effect.promise(() => fs.mkdir(volume, { recursive: true }))
      yield* writeVolume(volume)
      const before = yield* fingerprint(volume)
      const store = yield* LocalBlockStore.make({ root: join(work, "store") })

      const volumeId = yield* store.getVolumeId(hostPathPv(volume))
      assert.deepStrictEqual(volumeId, Option.some(volume))
      const info = yield* store.getVolumeInfo(volume)
      assert.deepStrictEqual(info, { volumeId: volume, availabilityZone: "local", volumeType: "hostPath" })

      const snapshotId = yield* store.createSnapshot(volume, "local", {
        "ark.heptio.com/backup": "b1",
        "ark.heptio.com/pv": "pv-data"
      })
      assert.match(snapshotId, /^snap-\d+-\d+$/)
      const recorded = JSON.parse(
        yield* Effect.promise(() => fs.readFile(join(work, "store", "snapshots", `${snapshotId}.json`), "utf8"))
      )
      assert.deepStrictEqual(recorded.tags, { "ark.heptio.com/backup": "b1", "ark.heptio.com/pv": "pv-data" })
      // No temporary directory is left next to the snapshot.
      const stored = yield* Effect.promise(() => fs.readdir(join(work, "store", "snapshots")))
      assert.deepStrictEqual(stored.sort(), [snapshotId, `${snapshotId}.json`].sort())

      yield* Effect.promise(() => fs.rm(volume, { recursive: true }))
      const restored = yield* store.createVolumeFromSnapshot(snapshotId, "hostPath", "local")
      assert.notStrictEqual(restored, volume)
      assert.isTrue(restored.startsWith(join(work, "store", "volumes")))
      assert.deepStrictEqual(yield* fingerprint(restored), before)
      assert.strictEqual(Object.keys(before).length, 8)

      const moved = yield* store.setVolumeId(hostPathPv(volume), restored)
      assert.deepStrictEqual(moved["spec"], {
        capacity: { storage: "1Gi" },
        hostPath: { path: restored, type: "DirectoryOrCreate" },
        storageClassName: "manual"
      })
      assert.deepStrictEqual(yield* store.getVolumeId(moved), Option.some(restored))
    }))

  it.scoped("two snapshots of the same volume get different IDs and restore independently", () =>
    Effect.gen(function*() {
      const work = yield* tempDir
      const volume = join(work, "vol")
      yield* Effect.promise(() => fs.mkdir(volume))
      const store = yield* LocalBlockStore.make({ root: join(work, "store") })
      yield* Effect.promise(() => fs.writeFile(join(volume, "f"), "one"))
      const first = yield* store.createSnapshot(volume, "local", {})
      yield* Effect.promise(() => fs.writeFile(join(volume, "f"), "two"))
      const second = yield* store.createSnapshot(volume, "local", {})
      assert.notStrictEqual(first, second)
      const a = yield* store.createVolumeFromSnapshot(first, "hostPath", "local")
      const b = yield* store.createVolumeFromSnapshot(second, "hostPath", "local")
      assert.strictEqual(yield* Effect.promise(() => fs.readFile(join(a, "f"), "utf8")), "one")
      assert.strictEqual(yield* Effect.promise(() => fs.readFile(join(b, "f"), "utf8")), "two")
    }))

  it.scoped("reads and writes `local` PVs, and serves no other volume source", () =>
    Effect.gen(function*() {
      const work = yield* tempDir
      const store = yield* LocalBlockStore.make({ root: work })
      const localPv: KubeObject = {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: "pv-local" },
        spec: { local: { path: "/mnt/disks/ssd1" }, nodeAffinity: { required: {} } }
      }
      assert.deepStrictEqual(yield* store.getVolumeId(localPv), Option.some("/mnt/disks/ssd1"))
      const moved = yield* store.setVolumeId(localPv, "/restored")
      assert.deepStrictEqual(moved["spec"], { local: { path: "/restored" }, nodeAffinity: { required: {} } })

      const ebsPv: KubeObject = { ...localPv, spec: { awsElasticBlockStore: { volumeID: "vol-1" } } }
      assert.deepStrictEqual(yield* store.getVolumeId(ebsPv), Option.none())
      const error = yield* Effect.flip(store.setVolumeId(ebsPv, "/x"))
      assert.strictEqual(error._tag, "BlockStoreError")
      assert.include(error.message, "pv-local")
    }))

  it.scoped("a missing volume or snapshot is not found; deleting twice succeeds", () =>
    Effect.gen(function*() {
      const work = yield* tempDir
      const store = yield* LocalBlockStore.make({ root: join(work, "store") })
      const missing = join(work, "nope")
      const infoError = yield* Effect.flip(store.getVolumeInfo(missing))
      assert.strictEqual(infoError._tag, "VolumeNotFound")
      assert.strictEqual(infoError._tag === "VolumeNotFound" ? infoError.volumeId : "", missing)
      const snapshotError = yield* Effect.flip(store.createSnapshot(missing, "local", {}))
      assert.strictEqual(snapshotError._tag, "VolumeNotFound")

      const volume = join(work, "vol")
      yield* Effect.promise(() => fs.mkdir(volume))
      const snapshotId = yield* store.createSnapshot(volume, "local", {})
      yield* store.deleteSnapshot(snapshotId)
      yield* store.deleteSnapshot(snapshotId)
      const stored = yield* Effect.promise(() => fs.readdir(join(work, "store", "snapshots")))
      assert.deepStrictEqual(stored, [])
      const restoreError = yield* Effect.flip(store.createVolumeFromSnapshot(snapshotId, "hostPath", "local"))
      assert.strictEqual(restoreError._tag, "SnapshotNotFound")
    }))

  it.scoped("never treats a crafted snapshot ID as a path", () =>
    Effect.gen(function*() {
      const work = yield* tempDir
      const victim = join(work, "victim")
      yield* Effect.promise(() => fs.mkdir(victim))
      const store = yield* LocalBlockStore.make({ root: join(work, "store") })
      const error = yield* Effect.flip(store.deleteSnapshot("../victim"))
      assert.strictEqual(error._tag, "BlockStoreError")
      const restoreError = yield* Effect.flip(store.createVolumeFromSnapshot("../../victim", "hostPath", "local"))
      assert.strictEqual(restoreError._tag, "SnapshotNotFound")
      assert.isTrue((yield* Effect.promise(() => fs.stat(victim))).isDirectory())
    }))
})
