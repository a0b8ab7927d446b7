// Embedding Ark in another Effect application: the program below backs a namespace up and restores
// it under a new name using Ark's backup and restore programs, over layers it chooses itself —
// here the in-memory API server and a directory as object storage, so it runs anywhere:
//
//   npm run example -- [STORAGE_DIR]
//
// Swap `KubeMemory.layer` for `KubeLive.layer({})` and the directory for `S3ObjectStore.layer(...)`
// to do the same against a real cluster and bucket. Imports go through the package's exports.
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Backup, executeRestore, Restore, runBackup } from "ark"
import { FilesystemObjectStore, KubeMemory } from "ark/layers"
import { KubeClient, ObjectStore } from "ark/services"
import { Console, Effect, Layer, Option, Schema, Stream } from "effect"

const storageDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "ark-embed-"))

/** The application's own data: a namespace with a few ConfigMaps. */
const seedShop = Effect.gen(function*() {
  const control = yield* KubeMemory.MemoryKube
  yield* control.seed([
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } },
    ...["cart", "catalog", "checkout"].map((name) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: "shop", labels: { app: "shop" } },
      data: { service: name }
    }))
  ])
})

const program = Effect.gen(function*() {
  const kube = yield* KubeClient
  const store = yield* ObjectStore
  yield* seedShop

  // Ark's resources are plain Schemas: decoding fills in the defaults (ttl, storage location...).
  const backup = yield* Schema.decodeUnknown(Backup)({
    apiVersion: "ark.heptio.com/v1",
    kind: "Backup",
    metadata: { name: "shop-backup", namespace: "heptio-ark" },
    spec: { includedNamespaces: ["shop"], ttl: "24h" }
  })
  const backedUp = yield* runBackup(backup, { storageLocations: ["default"] })
  yield* Console.log(
    `backup ${backedUp.metadata.name}: ${backedUp.status?.phase} (${backedUp.status?.progress?.itemsBackedUp} items)`
  )
  const files = yield* store.list("backups/shop-backup/")
  yield* Console.log(`stored: ${files.objects.map((object) => object.key).join(", ")}`)

  const restore = yield* Schema.decodeUnknown(Restore)({
    apiVersion: "ark.heptio.com/v1",
    kind: "Restore",
    metadata: { name: "shop-copy", namespace: "heptio-ark" },
    spec: { backupName: "shop-backup", namespaceMapping: { shop: "shop-copy" } }
  })
  const restored = yield* executeRestore(restore, Option.some(backedUp))
  yield* Console.log(
    `restore ${restored.restore.metadata.name}: ${restored.restore.status?.phase} (${restored.counts.created} created)`
  )

  const copies = yield* Stream.runCollect(
    kube.listPages({ group: "", version: "v1", resource: "configmaps" }, { namespace: "shop-copy" })
  )
  const names = [...copies].flatMap((page) => page.items.map((item) => item.metadata.name ?? "")).sort()
  yield* Console.log(`shop-copy configmaps: ${names.join(", ")}`)
})

const layers = Layer.mergeAll(
  KubeMemory.layer,
  FilesystemObjectStore.layer({ root: storageDir })
)

program.pipe(Effect.provide(layers), NodeRuntime.runMain)
