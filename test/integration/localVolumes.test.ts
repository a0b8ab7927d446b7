// The local BlockStore with PersistentVolumes on the real cluster (kwok's nodes are this machine,
// so a hostPath is a local directory): files come back byte-identical after snapshot, delete and
// restore, and the restored PV points at the new directory.
import { createHash, randomUUID } from "node:crypto"
import * as fs from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"

import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"

import * as LocalBlockStore from "../../layers/blockstore/Local.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { liveKube } from "./live.ts"

const persistentVolumes = { group: "", version: "v1", resource: "persistentvolumes" } as const

/** SHA-256 and mode of every file under `dir`, by relative path. */
const digests = (dir: string) =>
  Effect.promise(async () => {
    const result: Record<string, string> = {}
    for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue
      const full = join(entry.parentPath, entry.name)
      const mode = ((await fs.stat(full)).mode & 0o777).toString(8)
      result[relative(dir, full)] = `${mode} ${createHash("sha256").update(await fs.readFile(full)).digest("hex")}`
    }
    return result
  })

/** The stored object as a new one to create: no server-set fields. */
const asNew = (object: KubeObject): KubeObject => {
  const { uid: _uid, resourceVersion: _rv, creationTimestamp: _created, managedFields: _managed, ...metadata } =
    object.metadata
  const { status: _status, ...rest } = object
  return { ...rest, metadata }
}

describe("Local BlockStore with PVs on the real cluster", () => {
  it.live("hostPath files come back byte-identical after snapshot, delete and restore", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      const run = randomUUID().slice(0, 8)
      const work = yield* Effect.acquireRelease(
        Effect.promise(() => fs.mkdtemp(join(tmpdir(), "ark-local-volumes-"))),
        (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
      )
      const pvName = `ark-local-${run}`
      const restoredName = `ark-local-${run}-restored`
      yield* Effect.addFinalizer(() =>
        Effect.all([kube.delete(persistentVolumes, pvName), kube.delete(persistentVolumes, restoredName)].map((e) =>
          Effect.ignore(e)
        ))
      )

      // What a pod on a kwok node would have written into its hostPath volume.
      const data = join(work, "node", "pv-data")
      yield* Effect.promise(async () => {
        await fs.mkdir(join(data, "pgdata", "base"), { recursive: true })
        await fs.writeFile(join(data, "pgdata", "PG_VERSION"), "16\n")
        await fs.writeFile(
          join(data, "pgdata", "base", "16384"),
          Buffer.from(Array.from({ length: 256 * 1024 }, (_, i) =>
            (i * 2654435761) >>> 24))
        )
        await fs.writeFile(join(data, "backup.sh"), "#!/bin/sh\npg_dump\n", { mode: 0o750 })
      })
      const before = yield* digests(data)
      assert.strictEqual(Object.keys(before).length, 3)

      const pv = yield* kube.create(persistentVolumes, {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: pvName, labels: { "ark-test": run } },
        spec: {
          capacity: { storage: "1Gi" },
          accessModes: ["ReadWriteOnce"],
          persistentVolumeReclaimPolicy: "Retain",
          storageClassName: "manual",
          hostPath: { path: data, type: "Directory" }
        }
      })

      const store = yield* LocalBlockStore.make({ root: join(work, "snapshot-store") })
      const volumeId = yield* store.getVolumeId(pv)
      assert.deepStrictEqual(volumeId, Option.some(data))
      const info = yield* store.getVolumeInfo(data)
      const snapshotId = yield* store.createSnapshot(info.volumeId, info.availabilityZone, {
        "ark.heptio.com/backup": `b-${run}`,
        "ark.heptio.com/pv": pvName
      })

      // Disaster: the PV and its data are gone.
      yield* kube.delete(persistentVolumes, pvName)
      yield* Effect.promise(() => fs.rm(data, { recursive: true }))

      const restoredDir = yield* store.createVolumeFromSnapshot(snapshotId, info.volumeType, info.availabilityZone)
      const restoredPv = yield* store.setVolumeId({
        ...asNew(pv),
        metadata: { ...asNew(pv).metadata, name: restoredName }
      }, restoredDir)
      const created = yield* kube.create(persistentVolumes, restoredPv)
      const stored = yield* kube.get(persistentVolumes, created.metadata.name ?? "")
      assert.deepStrictEqual(yield* store.getVolumeId(stored), Option.some(restoredDir))
      assert.notStrictEqual(restoredDir, data)
      assert.deepStrictEqual(yield* digests(restoredDir), before)

      yield* store.deleteSnapshot(snapshotId)
      const again = yield* Effect.flip(
        store.createVolumeFromSnapshot(snapshotId, info.volumeType, info.availabilityZone)
      )
      assert.strictEqual(again._tag, "SnapshotNotFound")
    }).pipe(Effect.scoped, Effect.provide(liveKube())))
})
