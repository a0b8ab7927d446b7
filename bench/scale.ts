// `npm run bench -- scale [--sizes 10000,100000,300000]`: the real `ark server` as its own process
// (bin/ark.mjs as shipped, no Node flags of ours) against each size of namespace. Per size, in one run: a raw
// paginated list from this process, the server's backup of the same namespace to a filesystem
// location and to MinIO, plain concurrent creates of the seeded objects from this process, and the
// server's restore of the backup into another namespace; the server's RSS is sampled throughout.
// Backup and restore times are the server's own `ark_{backup,restore}_duration_seconds` (the
// histogram's sum grows by each run's start-to-final-phase time, in milliseconds): the status
// timestamps have a resolution of one second.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

import { Clock, Config, Data, Duration, Effect, Layer, Option, Ref, Schedule } from "effect"

import * as KubeLive from "../layers/kube/Live.ts"
import type { KubeObject } from "../services/KubeClient.ts"
import { KubeClient } from "../services/KubeClient.ts"
import { apiVersion } from "../src/api/index.ts"
import { restoreKeys } from "../src/archive/layout.ts"
import { defaultConcurrency } from "../src/restore/run.ts"
import type { ServerProcess } from "../test/integration/serverProcess.ts"
import {
  arkGvr,
  arkServer,
  finished,
  logged,
  metricsUrl,
  serverNamespace,
  sharedMinio,
  statusOf,
  storeAt
} from "../test/integration/serverProcess.ts"
import { waitFor } from "../test/support/wait.ts"
import { untilQuiet } from "./quiet.ts"
import type { ScaleRow } from "./scaleReport.ts"
import { formatScaleTable, histogramTotals, settledConcurrency } from "./scaleReport.ts"
import { namespaces, rawList, seed, seedObjects } from "./seed.ts"

class BenchFailed extends Data.TaggedError("BenchFailed")<{ readonly message: string }> {}

const filesystemLocation = "filesystem"
const s3Location = "default"
const restoreName = "bench-restore"

/**
 * How long one phase may take: generous for a loaded 2-core machine (25 objects/s, half of what a
 * server held to `--client-qps 50` restores), finite for a hung one.
 */
const phaseDeadline = (size: number) => Duration.seconds(600 + size / 25)

const log = (message: string) => Effect.sync(() => console.error(`[scale] ${message}`))

const vmRssMiB = (pid: number) =>
  Effect.try({
    try: () => {
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
      return match === null ? Option.none() : Option.some(Number(match[1]) / 1024)
    },
    catch: () => new BenchFailed({ message: `cannot read /proc/${pid}/status` })
  }).pipe(Effect.orElseSucceed(() => Option.none<number>()))

/**
 * Samples the process's RSS every 20 ms for as long as the scope lives; `during` runs an effect as
 * a named phase, and `peak` is the highest sample of a phase (or of all, without a name).
 */
const rssSampler = (pid: number) =>
  Effect.gen(function*() {
    const state = yield* Ref.make({ phase: "start", peaks: new Map<string, number>() })
    const sample = Effect.flatMap(vmRssMiB(pid), (rss) =>
      Option.match(rss, {
        onNone: () => Effect.void,
        onSome: (value) =>
          Ref.update(state, ({ peaks, phase }) => {
            peaks.set(phase, Math.max(peaks.get(phase) ?? 0, value))
            return { phase, peaks }
          })
      }))
    yield* Effect.forkScoped(Effect.repeat(sample, Schedule.spaced("20 millis")))
    const during = <A, E, R>(phase: string, effect: Effect.Effect<A, E, R>) =>
      Ref.update(state, ({ peaks }) => ({ phase, peaks })).pipe(
        Effect.zipRight(sample),
        Effect.zipRight(effect),
        Effect.tap(() => sample)
      )
    const peak = (phase?: string) =>
      Effect.map(
        Ref.get(state),
        ({ peaks }) => phase === undefined ? Math.max(0, ...peaks.values()) : peaks.get(phase) ?? 0
      )
    const peaks = Effect.map(Ref.get(state), ({ peaks }) => [...peaks])
    return { during, peak, peaks }
  })

/** Fails (with the end of its output) as soon as the server exits, whatever `effect` waits for. */
const whileRunning = (server: ServerProcess) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.raceFirst(
    effect,
    Effect.promise(() => server.exited).pipe(
      Effect.flatMap((code) =>
        new BenchFailed({
          message: `ark server exited (${code ?? "signal"}); its last output:\n${server.output().slice(-4000)}`
        })
      )
    )
  )

const metricsPage = (url: string) =>
  Effect.tryPromise({
    try: async () => {
      const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(30_000) })
      return response.text()
    },
    catch: (cause) => new BenchFailed({ message: `GET ${url}/metrics: ${String(cause)}` })
  })

const readyz = (url: string) =>
  Effect.tryPromise({
    try: async () => (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) })).status === 200,
    catch: (cause) => new BenchFailed({ message: `GET ${url}/readyz: ${String(cause)}` })
  }).pipe(Effect.orElseSucceed(() => false))

/** Waits until the server serves /readyz, holds the lease and has found both locations Available. */
const serverReady = (server: ServerProcess, namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const url = yield* metricsUrl(server)
    yield* waitFor(
      "the server's /readyz",
      Effect.map(readyz(url), (ok) => ok ? Option.some(ok) : Option.none()),
      "2 minutes"
    )
    yield* waitFor(
      "the server holding the leader lease",
      Effect.sync(() =>
        logged(server, "acquired the leader lease", true).length > 0 ? Option.some(true) : Option.none()
      ),
      "2 minutes"
    )
    for (const location of [filesystemLocation, s3Location]) {
      yield* waitFor(
        `BackupStorageLocation ${location} Available`,
        kube.get(arkGvr.locations, location, namespace).pipe(
          Effect.map((object) => statusOf(object)["phase"] === "Available" ? Option.some(true) : Option.none())
        ),
        "2 minutes"
      )
    }
    return url
  })

/**
 * Creates the Backup or Restore and waits until it reaches a final phase; its duration is what the
 * server's histogram `metric` grew by (this benchmark runs one at a time).
 */
const serverRun = (
  metricsAt: string,
  metric: string,
  resource: typeof arkGvr.backups,
  object: KubeObject,
  deadline: Duration.Duration
) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const name = object.metadata.name ?? ""
    const namespace = object.metadata.namespace ?? ""
    const before = histogramTotals(yield* metricsPage(metricsAt), metric)
    const start = performance.now()
    yield* kube.create(resource, object)
    const done = yield* waitFor(
      `${resource.resource}/${name} finished`,
      kube.get(resource, name, namespace).pipe(
        Effect.map((live) => finished(live) ? Option.some(live) : Option.none())
      ),
      deadline
    )
    const wallSeconds = (performance.now() - start) / 1000
    const status = statusOf(done)
    if (status["phase"] !== "Completed") {
      return yield* new BenchFailed({ message: `${resource.resource}/${name} ended ${JSON.stringify(status)}` })
    }
    // The histogram is updated as the run ends, a moment before the final status is written.
    const after = yield* waitFor(
      `${metric} to count ${resource.resource}/${name}`,
      Effect.map(
        metricsPage(metricsAt),
        (page) => {
          const totals = histogramTotals(page, metric)
          return totals.count > before.count ? Option.some(totals) : Option.none()
        }
      ),
      "30 seconds"
    )
    if (after.count !== before.count + 1) {
      return yield* new BenchFailed({ message: `${metric} counted ${after.count - before.count} runs, not one` })
    }
    const seconds = after.sum - before.sum
    const progress = (status["progress"] as Record<string, number> | undefined) ?? {}
    return { seconds, wallSeconds, progress, done }
  })

/** Times `effect`, failing it after `deadline`. */
const timed = <A, E, R>(what: string, deadline: Duration.Duration, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    const value = yield* effect.pipe(
      Effect.timeoutFail({
        duration: deadline,
        onTimeout: () => new BenchFailed({ message: `${what} took longer than ${Duration.format(deadline)}` })
      })
    )
    return { value, seconds: (performance.now() - start) / 1000 }
  })

/** Deletes the namespaces and waits until every one is gone. */
const deleteNamespaces = (names: ReadonlyArray<string>, deadline: Duration.Duration) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* Effect.forEach(names, (name) => kube.delete(namespaces, name).pipe(Effect.ignore), { discard: true })
    yield* waitFor(
      `namespaces ${names.join(", ")} gone`,
      Effect.forEach(names, (name) =>
        kube.get(namespaces, name).pipe(
          Effect.as(false),
          Effect.catchTag("KubeNotFound", () => Effect.succeed(true))
        )).pipe(Effect.map((gone) => gone.every((one) => one) ? Option.some(true) : Option.none())),
      deadline
    )
  })

/** Everything under the benchmark's prefix in MinIO. */
const emptyPrefix = (s3: Effect.Effect.Success<ReturnType<typeof sharedMinio>>) =>
  Effect.gen(function*() {
    const store = yield* storeAt(s3)
    const { objects } = yield* store.list("")
    yield* Effect.forEach(objects, (object) => store.delete(object.key), { concurrency: 8, discard: true })
  })

const measureSize = (size: number, kubeconfig: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const run = `${size}-${(yield* Clock.currentTimeMillis).toString(36)}`
    const names = {
      server: `ark-scale-${run}-srv`,
      source: `ark-scale-${run}-src`,
      plain: `ark-scale-${run}-plain`,
      restored: `ark-scale-${run}-restored`
    }
    const root = mkdtempSync(join(tmpdir(), "ark-bench-scale-"))
    const s3 = yield* sharedMinio(`bench-scale-${run}`)
    const deadline = phaseDeadline(size)
    // Released last (after the server is stopped), on success, failure or interrupt alike; each
    // step is tried even when one before it failed.
    const attempt = <E, R>(what: string, effect: Effect.Effect<void, E, R>) =>
      effect.pipe(
        Effect.catchAll((error) => log(`cleanup after ${size}: ${what}: ${String(error)}`)),
        Effect.catchAllDefect((defect) => log(`cleanup after ${size}: ${what}: ${String(defect)}`))
      )
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* log(`deleting ${Object.values(names).join(", ")}`)
        yield* attempt(
          "namespaces",
          deleteNamespaces(Object.values(names), Duration.seconds(600 + (3 * size) / 200))
        )
        yield* attempt("MinIO", emptyPrefix(s3))
        yield* attempt(
          "the filesystem location",
          Effect.gen(function*() {
            // The restore's own log (per item, with timestamps) outlives the location.
            const restoreLog = readdirSync(root, { recursive: true, encoding: "utf8" }).find((path) =>
              path.endsWith(restoreKeys(restoreName).logs.split("/").at(-1) ?? "")
            )
            if (restoreLog !== undefined) {
              const kept = join(tmpdir(), `ark-bench-scale-${run}-restore-log.gz`)
              copyFileSync(join(root, restoreLog), kept)
              yield* log(`the restore's log: ${kept}`)
            }
            rmSync(root, { recursive: true, force: true })
          })
        )
      })
    )

    yield* untilQuiet
    yield* serverNamespace(names.server, s3)
    yield* kube.create(arkGvr.locations, {
      apiVersion,
      kind: "BackupStorageLocation",
      metadata: { name: filesystemLocation, namespace: names.server },
      spec: { provider: "filesystem", objectStorage: { bucket: "bench", prefix: "" }, config: { path: root } }
    })
    yield* seed(names.source, size)

    const server = yield* arkServer(kubeconfig, names.server, [], [])
    if (server.pid === undefined) return yield* new BenchFailed({ message: "ark server did not start" })
    // Kept after the run (the server's JSON log), to see what it did when a rate looks wrong.
    const serverLog = join(tmpdir(), `ark-bench-scale-${run}-server.log`)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        writeFileSync(serverLog, server.output())
        console.error(`[scale] the server's log: ${serverLog}`)
      })
    )
    const running = whileRunning(server)
    const rss = yield* rssSampler(server.pid)
    const url = yield* serverReady(server, names.server).pipe(running)
    yield* rss.during("idle before", Effect.sleep("2 seconds"))
    yield* log(`server ${server.pid} ready at ${url}; idle RSS ${(yield* rss.peak("idle before")).toFixed(0)} MiB`)

    yield* untilQuiet
    const rawFirst = yield* rss.during("raw list", timed("the raw list", deadline, rawList(names.source)))
    const backup = (location: string) =>
      Effect.gen(function*() {
        yield* untilQuiet
        const name = `bench-${location}`
        const result = yield* rss.during(
          `backup to ${location}`,
          serverRun(url, "ark_backup_duration_seconds", arkGvr.backups, {
            apiVersion,
            kind: "Backup",
            metadata: { name, namespace: names.server },
            spec: {
              includedNamespaces: [names.source],
              storageLocation: location,
              snapshotVolumes: false,
              ttl: "24h0m0s"
            }
          }, deadline).pipe(running)
        )
        const items = result.progress["itemsBackedUp"] ?? 0
        yield* log(
          `backup to ${location}: ${items} items in ${result.seconds.toFixed(2)} s (server) / ` +
            `${result.wallSeconds.toFixed(2)} s (create to observed final phase)`
        )
        return { name, perSecond: items / result.seconds }
      })
    const toFilesystem = yield* backup(filesystemLocation)
    const toS3 = yield* backup(s3Location)
    yield* untilQuiet
    const rawSecond = yield* rss.during("raw list again", timed("the raw list", deadline, rawList(names.source)))
    const raw = rawFirst.seconds < rawSecond.seconds ? rawFirst : rawSecond
    yield* log(`raw list: ${raw.value} objects in ${raw.seconds.toFixed(2)} s (faster of two)`)

    yield* untilQuiet
    const plain = yield* rss.during(
      "plain creates",
      timed(
        "the plain creates",
        deadline,
        Effect.gen(function*() {
          yield* kube.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: names.plain } })
          const objects = seedObjects(names.plain, size)
          yield* Effect.forEach(objects, ([gvr, object]) => kube.create(gvr, object), {
            concurrency: defaultConcurrency,
            discard: true
          })
          return objects.length
        })
      )
    )
    yield* log(`plain creates: ${plain.value} objects in ${plain.seconds.toFixed(2)} s`)

    yield* untilQuiet
    const restored = yield* rss.during(
      "restore",
      serverRun(url, "ark_restore_duration_seconds", arkGvr.restores, {
        apiVersion,
        kind: "Restore",
        metadata: { name: restoreName, namespace: names.server },
        spec: { backupName: toFilesystem.name, namespaceMapping: { [names.source]: names.restored } }
      }, deadline).pipe(running)
    )
    const itemsRestored = restored.progress["itemsRestored"] ?? 0
    yield* log(
      `restore: ${itemsRestored} items in ${restored.seconds.toFixed(2)} s (server) / ` +
        `${restored.wallSeconds.toFixed(2)} s (create to observed final phase)`
    )
    yield* rss.during("idle after", Effect.sleep("2 seconds"))

    const finishedLine = logged(server, "restore finished", true).find((entry) =>
      String(entry.annotations?.["resource"] ?? "").endsWith(`/${restoreName}`)
    )
    const row: ScaleRow = {
      objects: raw.value,
      rawListPerSecond: raw.value / raw.seconds,
      backupFilesystemPerSecond: toFilesystem.perSecond,
      backupS3PerSecond: toS3.perSecond,
      plainCreatesPerSecond: plain.value / plain.seconds,
      restorePerSecond: itemsRestored / restored.seconds,
      peakRssMiB: yield* rss.peak(),
      idleRssMiB: { before: yield* rss.peak("idle before"), after: yield* rss.peak("idle after") },
      restoreConcurrency: finishedLine === undefined ? undefined : settledConcurrency(finishedLine)
    }
    for (const [phase, peak] of yield* rss.peaks) {
      yield* log(`server RSS peak during ${phase}: ${peak.toFixed(0)} MiB`)
    }
    return row
  }).pipe(Effect.scoped)

export const benchScale = (sizes: ReadonlyArray<number>, nodeOptions: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    // The server inherits this process's environment: a NODE_OPTIONS would change what is measured.
    const inherited = yield* Config.string("NODE_OPTIONS").pipe(Config.withDefault(""))
    if (nodeOptions.length > 0 || inherited.trim() !== "") {
      return yield* new BenchFailed({
        message: "scale runs `ark server` with the shipped defaults: no --node-options, no NODE_OPTIONS"
      })
    }
    const kubeconfig = yield* Config.string("KUBECONFIG")
    const rows: Array<ScaleRow> = []
    for (const size of sizes) {
      yield* log(`size ${size}`)
      rows.push(yield* measureSize(size, kubeconfig))
      // The next size starts once this one's namespaces are gone (measureSize waited for them).
    }
    console.log("rates in objects/s; backup and restore timed by the server's duration histograms")
    console.log(formatScaleTable(rows))
  }).pipe(
    Effect.provide(
      Layer.unwrapEffect(
        Config.string("KUBECONFIG").pipe(Effect.map((kubeconfigPath) => KubeLive.layer({ kubeconfigPath })))
      )
    ),
    Effect.orDie
  )
