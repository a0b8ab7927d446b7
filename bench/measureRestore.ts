// One process measures, for the same `count` objects: plain concurrent creates (the baseline),
// Ark's restore of them from a backup tarball, and plain creates again (the faster baseline run
// counts). Prints one JSON line for bench/restore.ts.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Config, Effect, Layer, Option, Schema, Stream } from "effect"

import * as KubeLive from "../layers/kube/Live.ts"
import * as FilesystemStore from "../layers/objectstore/Filesystem.ts"
import type { GroupVersionResource, KubeObject } from "../services/KubeClient.ts"
import { KubeClient } from "../services/KubeClient.ts"
import { ObjectStore } from "../services/ObjectStore.ts"
import { Backup, Restore } from "../src/api/index.ts"
import { backupKeys, resourceEntryPath } from "../src/archive/layout.ts"
import { writeArchive } from "../src/archive/writer.ts"
import { defaultConcurrency, executeRestore } from "../src/restore/run.ts"

const count = Number(process.argv[2] ?? "10000")
const run = `${process.pid}`
const source = "bench-restore-source"
const namespaces: GroupVersionResource = { group: "", version: "v1", resource: "namespaces" }
const kinds = [
  {
    gvr: { group: "", version: "v1", resource: "configmaps" },
    kind: "ConfigMap",
    field: "data",
    value: "x".repeat(1000)
  },
  {
    gvr: { group: "", version: "v1", resource: "secrets" },
    kind: "Secret",
    field: "data",
    value: Buffer.from("y".repeat(750)).toString("base64")
  }
] as const

/** The i-th object, as a backup stores it (server fields included; the restore drops them). */
const objectAt = (
  index: number,
  namespace: string
): { readonly gvr: GroupVersionResource; readonly object: KubeObject } => {
  const kind = kinds[index % 2] ?? kinds[0]
  return {
    gvr: kind.gvr,
    object: {
      apiVersion: "v1",
      kind: kind.kind,
      metadata: {
        name: `item-${index}`,
        namespace,
        labels: { bench: "ark" },
        uid: `uid-${index}`,
        resourceVersion: "1"
      },
      [kind.field]: { payload: kind.value }
    }
  }
}

const stripped = ({ metadata: { uid: _uid, resourceVersion: _rv, ...metadata }, ...rest }: KubeObject): KubeObject => ({
  ...rest,
  metadata
})

const createNamespace = (name: string) =>
  Effect.flatMap(
    KubeClient,
    (kube) => kube.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name } })
  )

/** The baseline: the same objects, created concurrently as a plain client would. */
const plainCreates = (namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* createNamespace(namespace)
    yield* Effect.forEach(
      Array.from({ length: count }, (_, index) => objectAt(index, namespace)),
      ({ gvr, object }) => kube.create(gvr, stripped(object)),
      { concurrency: defaultConcurrency, discard: true }
    )
    return count
  })

const writeBackup = (name: string) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const entries = Stream.range(0, count - 1).pipe(
      Stream.map((index) => {
        const { gvr, object } = objectAt(index, source)
        return {
          path: resourceEntryPath(gvr.resource, source, object.metadata.name ?? ""),
          data: new TextEncoder().encode(JSON.stringify(object))
        }
      })
    )
    yield* store.put(backupKeys(name).tarball, writeArchive(entries))
    return Schema.decodeUnknownSync(Backup)({
      apiVersion: "ark.heptio.com/v1",
      kind: "Backup",
      metadata: { name, namespace: "heptio-ark" },
      spec: { includedNamespaces: [source] },
      status: { phase: "Completed" }
    })
  })

const arkRestore = (backup: Backup, target: string) =>
  Effect.gen(function*() {
    const restore = Schema.decodeUnknownSync(Restore)({
      apiVersion: "ark.heptio.com/v1",
      kind: "Restore",
      metadata: { name: `bench-${run}`, namespace: "heptio-ark" },
      spec: { backupName: backup.metadata.name, namespaceMapping: { [source]: target } }
    })
    // Its own default: the concurrency window adapts to the server from 16.
    const { restore: result, window } = yield* executeRestore(restore, Option.some(backup))
    if (result.status?.phase !== "Completed") {
      return yield* Effect.dieMessage(
        `restore ended ${result.status?.phase}: ${result.status?.failureReason ?? JSON.stringify(result.status)}`
      )
    }
    return { items: result.status.progress?.itemsRestored ?? 0, window }
  })

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    const value = yield* effect
    return { value, seconds: (performance.now() - start) / 1000 }
  })

const program = Effect.gen(function*() {
  const root = mkdtempSync(join(tmpdir(), "ark-bench-restore-"))
  const targets = [`bench-plain-a-${run}`, `bench-ark-${run}`, `bench-plain-b-${run}`]
  const result = yield* Effect.gen(function*() {
    const backup = yield* writeBackup(`bench-${run}`)
    const first = yield* timed(plainCreates(targets[0] ?? ""))
    const ark = yield* timed(arkRestore(backup, targets[1] ?? ""))
    const second = yield* timed(plainCreates(targets[2] ?? ""))
    const baseline = Math.min(first.seconds, second.seconds)
    return {
      objects: count,
      plainCreatesPerSecond: count / baseline,
      restorePerSecond: ark.value.items / ark.seconds,
      itemsRestored: ark.value.items,
      restoreConcurrency: ark.value.window
    }
  }).pipe(
    Effect.provide(FilesystemStore.layer({ root })),
    Effect.ensuring(
      Effect.flatMap(
        KubeClient,
        (kube) =>
          Effect.forEach(targets, (name) => kube.delete(namespaces, name).pipe(Effect.ignore), { discard: true })
      )
    )
  )
  rmSync(root, { recursive: true, force: true })
  console.log(JSON.stringify(result))
})

program.pipe(
  Effect.provide(
    Layer.unwrapEffect(
      Config.string("KUBECONFIG").pipe(Effect.map((kubeconfigPath) => KubeLive.layer({ kubeconfigPath })))
    )
  ),
  Effect.orDie,
  NodeRuntime.runMain
)
