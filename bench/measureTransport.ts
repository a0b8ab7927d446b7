// One process measures the CPU this process spends per created object (process.cpuUsage: all of its
// threads, GC and zlib included) for the same `count` ConfigMaps created three ways: plain
// node:https with keep-alive, Ark's live KubeClient.create, and Ark's restore of them from a backup
// tarball. CPU, not wall time: the machine is shared, and the restore is CPU-bound next to the API
// server on a small one. Prints one JSON line for bench/transport.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import { Session } from "node:inspector/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Config, Effect, Layer, Option, Schema, Stream } from "effect"

import * as KubeLive from "../layers/kube/Live.ts"
import { loadClusterAccess } from "../layers/kube/live/kubeconfig.ts"
import * as FilesystemStore from "../layers/objectstore/Filesystem.ts"
import type { GroupVersionResource, KubeObject } from "../services/KubeClient.ts"
import { KubeClient } from "../services/KubeClient.ts"
import { ObjectStore } from "../services/ObjectStore.ts"
import { Backup, Restore } from "../src/api/index.ts"
import { backupKeys, resourceEntryPath } from "../src/archive/layout.ts"
import { writeArchive } from "../src/archive/writer.ts"
import { defaultConcurrency, executeRestore } from "../src/restore/run.ts"

const count = Number(process.argv[2] ?? "2000")
/** Set: each measured phase's V8 CPU profile is written there as <phase>.cpuprofile. */
const profileDir = process.argv[3]
/** Objects each way creates first, so the JIT has settled before anything is measured. */
const warmup = Math.min(500, Math.max(100, Math.floor(count / 5)))
const run = `${process.pid}`
const namespaces: GroupVersionResource = { group: "", version: "v1", resource: "namespaces" }
const configMaps: GroupVersionResource = { group: "", version: "v1", resource: "configmaps" }
const payload = "x".repeat(1000)

const configMap = (namespace: string, index: number): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: `item-${index}`, namespace, labels: { bench: "ark" } },
  data: { payload }
})

/** Profiles `effect` into profileDir/<phase>.cpuprofile when a directory was given. */
const profiled = <A, E, R>(phase: string, effect: Effect.Effect<A, E, R>) =>
  profileDir === undefined ? effect : Effect.acquireUseRelease(
    Effect.promise(async () => {
      const session = new Session()
      session.connect()
      await session.post("Profiler.enable")
      await session.post("Profiler.start")
      return session
    }),
    () => effect,
    (session) =>
      Effect.promise(async () => {
        const { profile } = await session.post("Profiler.stop")
        writeFileSync(join(profileDir, `${phase}.cpuprofile`), JSON.stringify(profile))
        session.disconnect()
      })
  )

/** CPU milliseconds (user + system, all threads) `effect` costs this process, and its wall seconds. */
const cpuOf = <A, E, R>(phase: string, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const cpu = process.cpuUsage()
    const start = performance.now()
    const value = yield* profiled(phase, effect)
    const used = process.cpuUsage(cpu)
    return { value, cpuMillis: (used.user + used.system) / 1000, seconds: (performance.now() - start) / 1000 }
  })

const createNamespace = (name: string) =>
  Effect.flatMap(
    KubeClient,
    (kube) => kube.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name } })
  )

/** What a plain client does per object: stringify, POST on a keep-alive agent, read and parse the answer. */
const plainCreates = (namespace: string, n: number) =>
  Effect.gen(function*() {
    const access = yield* loadClusterAccess({ kubeconfigPath: yield* Config.string("KUBECONFIG") })
    const options = yield* Effect.promise(() => access.credentials())
    const secure = access.server.startsWith("https:")
    const agent = secure
      ? new https.Agent({ keepAlive: true, ca: options.ca, cert: options.cert, key: options.key })
      : new http.Agent({ keepAlive: true })
    const url = new URL(`${access.server}/api/v1/namespaces/${namespace}/configmaps`)
    const createOne = (index: number) =>
      new Promise<void>((resolve, reject) => {
        const body = JSON.stringify(configMap(namespace, index))
        const req = (secure ? https : http).request(url, {
          method: "POST",
          agent,
          headers: {
            ...options.headers,
            Accept: "application/json",
            "Content-Type": "application/json",
            "Content-Length": Buffer.byteLength(body)
          }
        }, (response) => {
          let text = ""
          response.setEncoding("utf8")
          response.on("data", (chunk: string) => (text += chunk))
          response.on("end", () => {
            JSON.parse(text)
            if (response.statusCode === 201) resolve()
            else reject(new Error(`HTTP ${response.statusCode}: ${text}`))
          })
          response.on("error", reject)
        })
        req.on("error", reject)
        req.end(body)
      })
    yield* Effect.promise(async () => {
      let next = 0
      const worker = async () => {
        while (next < n) await createOne(next++)
      }
      await Promise.all(Array.from({ length: defaultConcurrency }, worker))
    })
    agent.destroy()
    return n
  })

const arkCreates = (namespace: string, n: number) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* Effect.forEach(
      Array.from({ length: n }, (_, index) => configMap(namespace, index)),
      (object) => kube.create(configMaps, object),
      { concurrency: defaultConcurrency, discard: true }
    )
    return n
  })

/** A backup of `n` ConfigMaps of `source`, as the server stores it (server fields included). */
const writeBackup = (name: string, source: string, n: number) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const entries = Stream.range(0, n - 1).pipe(
      Stream.map((index) => {
        const object = configMap(source, index)
        return {
          path: resourceEntryPath("configmaps", source, object.metadata.name ?? ""),
          data: JSON.stringify({
            ...object,
            metadata: { ...object.metadata, uid: `uid-${index}`, resourceVersion: "1" }
          })
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

const arkRestore = (backup: Backup, source: string, target: string) =>
  Effect.gen(function*() {
    const restore = Schema.decodeUnknownSync(Restore)({
      apiVersion: "ark.heptio.com/v1",
      kind: "Restore",
      metadata: { name: `restore-${target}`, namespace: "heptio-ark" },
      spec: { backupName: backup.metadata.name, namespaceMapping: { [source]: target } }
    })
    const { restore: result } = yield* executeRestore(restore, Option.some(backup))
    if (result.status?.phase !== "Completed") {
      return yield* Effect.dieMessage(`restore ended ${result.status?.phase}: ${JSON.stringify(result.status)}`)
    }
    return result.status.progress?.itemsRestored ?? 0
  })

const program = Effect.gen(function*() {
  const root = mkdtempSync(join(tmpdir(), "ark-bench-transport-"))
  const source = `bench-cpu-src-${run}`
  const names = {
    warmPlain: `bench-cpu-warm-plain-${run}`,
    warmArk: `bench-cpu-warm-ark-${run}`,
    warmRestore: `bench-cpu-warm-restore-${run}`,
    plain: `bench-cpu-plain-${run}`,
    ark: `bench-cpu-ark-${run}`,
    restore: `bench-cpu-restore-${run}`
  }
  const result = yield* Effect.gen(function*() {
    const warmBackup = yield* writeBackup(`warm-${run}`, source, warmup)
    const backup = yield* writeBackup(`bench-${run}`, source, count)
    for (const name of [names.warmPlain, names.warmArk, names.plain, names.ark]) yield* createNamespace(name)
    // The restore creates its own target namespace, as it would in use.
    yield* plainCreates(names.warmPlain, warmup)
    yield* arkCreates(names.warmArk, warmup)
    yield* arkRestore(warmBackup, source, names.warmRestore)
    const plain = yield* cpuOf("plain", plainCreates(names.plain, count))
    const ark = yield* cpuOf("create", arkCreates(names.ark, count))
    const restored = yield* cpuOf("restore", arkRestore(backup, source, names.restore))
    if (restored.value !== count) return yield* Effect.dieMessage(`restored ${restored.value} of ${count}`)
    const perItem = (m: { readonly cpuMillis: number }) => m.cpuMillis / count
    return {
      objects: count,
      cpuMillisPerItem: { plain: perItem(plain), arkCreate: perItem(ark), restore: perItem(restored) },
      wallSeconds: { plain: plain.seconds, arkCreate: ark.seconds, restore: restored.seconds }
    }
  }).pipe(
    Effect.provide(FilesystemStore.layer({ root })),
    Effect.ensuring(
      Effect.flatMap(
        KubeClient,
        (kube) =>
          Effect.forEach(Object.values(names), (name) => kube.delete(namespaces, name).pipe(Effect.ignore), {
            discard: true
          })
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
