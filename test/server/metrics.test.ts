// Ark's metrics: the exposition text of a snapshot (exact), how one run is recorded (attempt, in
// progress, duration buckets, outcome, items, bytes, last success), the tarball byte count, and the
// counters the real controllers leave after backups and restores over the memory layers.
// Effect's metric registry is global to the process: tests use their own schedule tags or deltas.
import { assert, describe, it } from "@effect/vitest"
import {
  Chunk,
  Clock,
  Deferred,
  Duration,
  Effect,
  Fiber,
  Layer,
  Metric,
  MetricBoundaries,
  MetricKey,
  MetricLabel,
  MetricPair,
  MetricState,
  Option,
  Stream,
  TestClock
} from "effect"

import * as MemoryObjectStore from "../../layers/objectstore/Memory.ts"
import { MemoryObjectStores } from "../../layers/objectstore/MemoryProvider.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStoreError } from "../../services/ObjectStore.ts"
import type { Backup, Restore } from "../../src/api/index.ts"
import { newDeleteBackupRequest } from "../../src/deletion/requests.ts"
import * as BackupDeletionController from "../../src/server/controllers/backupDeletion.ts"
import * as LocationController from "../../src/server/controllers/locations.ts"
import { controllers } from "../../src/server/main.ts"
import { arkSnapshot, countUploadedBytes, observeBackup, observeRestore } from "../../src/server/metrics.ts"
import { familiesOf, renderFamilies, renderPrometheus } from "../../src/server/prometheus.ts"
import { deletionLayer, installLocation, seedBackup } from "../gc/fixtures.ts"
import { parseExposition, valueOf } from "../support/exposition.ts"
import { waitFor } from "../support/wait.ts"
import {
  backup,
  backups,
  gvr,
  installArk,
  location,
  locations,
  memoryLayer,
  seedApp,
  serverNamespace,
  statusOf,
  waitForPhase
} from "./fixtures.ts"

const scrape = Effect.map(Metric.snapshot, (pairs) => renderPrometheus(pairs))

/** The value of one series in exposition text; 0 when the series is absent. */
const sampleOf = (text: string, series: string): number => {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}

const completedBackup = (items: number, phase = "Completed", status: Record<string, number> = {}) =>
  ({
    apiVersion: "ark.heptio.com/v1",
    kind: "Backup",
    metadata: { name: "b" },
    spec: {},
    status: { phase, progress: { totalItems: items, itemsBackedUp: items }, ...status }
  }) as unknown as Backup

describe("Prometheus exposition", () => {
  it("renders a snapshot exactly: HELP/TYPE once per name, sorted series, cumulative buckets, escaping", () => {
    const tagged = <T extends MetricKey.MetricKey.Untyped>(key: T, tags: ReadonlyArray<readonly [string, string]>) =>
      MetricKey.taggedWithLabels(key, tags.map(([k, v]) => MetricLabel.make(k, v)))
    const histogram = MetricKey.histogram("job_seconds", MetricBoundaries.fromIterable([1, 5]), "how long")
    const pairs = [
      MetricPair.unsafeMake(
        tagged(MetricKey.counter("jobs_total", { description: "jobs\nrun \\ so far" }), [["schedule", "b"]]),
        MetricState.counter(2)
      ),
      MetricPair.unsafeMake(
        tagged(MetricKey.counter("jobs_total", { description: "jobs\nrun \\ so far" }), [["schedule", "a \"q\"\n\\"]]),
        MetricState.counter(1)
      ),
      MetricPair.unsafeMake(MetricKey.gauge("in-flight"), MetricState.gauge(-1.5)),
      MetricPair.unsafeMake(
        tagged(histogram, [["schedule", ""]]),
        MetricState.histogram({
          buckets: [[1, 1], [5, 3], [Number.POSITIVE_INFINITY, 4]],
          count: 4,
          min: 0.2,
          max: 9,
          sum: 14.5
        })
      ),
      MetricPair.unsafeMake(
        MetricKey.counter("big_total", { bigint: true }),
        MetricState.counter(BigInt("9007199254740993"))
      ),
      MetricPair.unsafeMake(MetricKey.gauge("jobs_total"), MetricState.gauge(7))
    ]
    assert.strictEqual(
      renderPrometheus(pairs),
      [
        "# TYPE big_total counter",
        "big_total 9007199254740993",
        "# TYPE in_flight gauge",
        "in_flight -1.5",
        "# HELP job_seconds how long",
        "# TYPE job_seconds histogram",
        "job_seconds_bucket{schedule=\"\",le=\"1\"} 1",
        "job_seconds_bucket{schedule=\"\",le=\"5\"} 3",
        "job_seconds_bucket{schedule=\"\",le=\"+Inf\"} 4",
        "job_seconds_sum{schedule=\"\"} 14.5",
        "job_seconds_count{schedule=\"\"} 4",
        "# HELP jobs_total jobs\\nrun \\\\ so far",
        "# TYPE jobs_total counter",
        "jobs_total{schedule=\"a \\\"q\\\"\\n\\\\\"} 1",
        "jobs_total{schedule=\"b\"} 2",
        ""
      ].join("\n")
    )
    assert.strictEqual(renderPrometheus([]), "")
  })

  it("the test reader of the format rejects what Prometheus would reject or misread", () => {
    const valid = "# HELP a_total runs\n# TYPE a_total counter\na_total{schedule=\"\"} 1\n"
    assert.strictEqual(valueOf(parseExposition(valid), "a_total", { schedule: "" }), 1)
    const histogram = (buckets: string) => `# TYPE h histogram\n${buckets}h_sum 3\nh_count 2\n`
    assert.strictEqual(
      valueOf(parseExposition(histogram("h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n")), "h_count"),
      2
    )
    const broken: Record<string, string> = {
      "a counter without _total": "# TYPE runs counter\nruns 1\n",
      "a gauge with _total": "# TYPE backups_total gauge\nbackups_total 1\n",
      "a series twice": "# TYPE a_total counter\na_total 1\na_total 2\n",
      "a sample outside its block": "# TYPE a_total counter\nb_total 1\n",
      "TYPE after samples": "# TYPE a_total counter\na_total 1\n# TYPE a_total counter\n",
      "a bad label": "# TYPE a_total counter\na_total{1x=\"\"} 1\n",
      "no +Inf bucket": histogram("h_bucket{le=\"1\"} 2\n"),
      "+Inf is not the count": histogram("h_bucket{le=\"+Inf\"} 1\n"),
      "buckets not cumulative": histogram("h_bucket{le=\"1\"} 2\nh_bucket{le=\"5\"} 1\nh_bucket{le=\"+Inf\"} 2\n"),
      "no final newline": "# TYPE a_total counter\na_total 1"
    }
    for (const [what, page] of Object.entries(broken)) {
      assert.throws(() => parseExposition(page), undefined, undefined, what)
    }
  })

  it("renders summaries with quantiles, and NaN for a quantile with no data", () => {
    const summary = MetricState.summary({
      error: 0.01,
      quantiles: [[0.5, Option.some(3)], [0.99, Option.none()]],
      count: 2,
      min: 1,
      max: 5,
      sum: 6
    })
    const key = MetricKey.summary({
      name: "latency",
      maxAge: "1 minute",
      maxSize: 10,
      error: 0.01,
      quantiles: [0.5, 0.99]
    })
    assert.strictEqual(
      renderPrometheus([MetricPair.unsafeMake(key, summary)]),
      "# TYPE latency summary\nlatency{quantile=\"0.5\"} 3\nlatency{quantile=\"0.99\"} NaN\nlatency_sum 6\nlatency_count 2\n"
    )
  })
})

describe("recording a run", () => {
  it.effect("a Completed backup: attempt, in progress while it runs, duration bucket, success, items, bytes, last success", () =>
    Effect.gen(function*() {
      const schedule = "unit-completed"
      const before = yield* scrape
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const run = Deferred.succeed(started, undefined).pipe(
        Effect.zipRight(Deferred.await(gate)),
        Effect.as(completedBackup(7)),
        observeBackup(schedule, Effect.succeed(1234))
      )
      const fiber = yield* Effect.fork(run)
      yield* Deferred.await(started)
      const running = yield* scrape
      assert.strictEqual(sampleOf(running, "ark_backup_in_progress"), sampleOf(before, "ark_backup_in_progress") + 1)
      assert.strictEqual(sampleOf(running, `ark_backup_attempt_total{schedule="${schedule}"}`), 1)
      assert.strictEqual(sampleOf(running, `ark_backup_success_total{schedule="${schedule}"}`), 0)

      yield* TestClock.adjust(Duration.seconds(90))
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(fiber)
      const after = yield* scrape
      const series = (name: string, extra = "") => `${name}{schedule="${schedule}"${extra}}`
      assert.strictEqual(sampleOf(after, "ark_backup_in_progress"), sampleOf(before, "ark_backup_in_progress"))
      assert.strictEqual(sampleOf(after, series("ark_backup_success_total")), 1)
      assert.strictEqual(sampleOf(after, series("ark_backup_failure_total")), 0)
      assert.strictEqual(sampleOf(after, series("ark_backup_items_total")), 7)
      assert.strictEqual(sampleOf(after, series("ark_backup_bytes_total")), 1234)
      assert.strictEqual(sampleOf(after, series("ark_backup_duration_seconds_count")), 1)
      assert.strictEqual(sampleOf(after, series("ark_backup_duration_seconds_sum")), 90)
      assert.strictEqual(sampleOf(after, series("ark_backup_duration_seconds_bucket", ",le=\"60\"")), 0)
      assert.strictEqual(sampleOf(after, series("ark_backup_duration_seconds_bucket", ",le=\"120\"")), 1)
      assert.strictEqual(sampleOf(after, series("ark_backup_duration_seconds_bucket", ",le=\"+Inf\"")), 1)
      // TestClock started at 0 and moved 90 seconds.
      assert.strictEqual(sampleOf(after, series("ark_backup_last_successful_timestamp")), 90)
      assert.include(after, "# TYPE ark_backup_last_successful_timestamp gauge\n")
      assert.strictEqual(sampleOf(after, series("ark_backup_last_status")), 1)
      assert.strictEqual(sampleOf(after, series("ark_backup_tarball_size_bytes")), 1234)
      assert.strictEqual(sampleOf(after, series("ark_backup_last_items")), 7)
      assert.strictEqual(sampleOf(after, series("ark_backup_last_errors")), 0)
      assert.strictEqual(sampleOf(after, series("ark_backup_warning_total")), 0)
    }))

  it.effect("a backup's warnings, errors and volume snapshots; the last backup of a schedule sets its gauges", () =>
    Effect.gen(function*() {
      const schedule = "unit-snapshots"
      const series = (name: string) => `${name}{schedule="${schedule}"}`
      yield* Effect.succeed(
        completedBackup(5, "PartiallyFailed", {
          warnings: 2,
          errors: 3,
          volumeSnapshotsAttempted: 3,
          volumeSnapshotsCompleted: 2
        })
      ).pipe(observeBackup(schedule, Effect.succeed(300)))
      const partial = yield* scrape
      assert.strictEqual(sampleOf(partial, series("ark_backup_warning_total")), 1)
      assert.strictEqual(sampleOf(partial, series("ark_backup_last_errors")), 3)
      assert.strictEqual(sampleOf(partial, series("ark_backup_last_status")), 0)
      assert.strictEqual(sampleOf(partial, series("ark_backup_tarball_size_bytes")), 300)
      assert.strictEqual(sampleOf(partial, series("ark_volume_snapshot_attempt_total")), 3)
      assert.strictEqual(sampleOf(partial, series("ark_volume_snapshot_success_total")), 2)
      assert.strictEqual(sampleOf(partial, series("ark_volume_snapshot_failure_total")), 1)

      yield* Effect.succeed(
        completedBackup(4, "Completed", { volumeSnapshotsAttempted: 1, volumeSnapshotsCompleted: 1 })
      )
        .pipe(observeBackup(schedule, Effect.succeed(200)))
      const completed = yield* scrape
      assert.strictEqual(sampleOf(completed, series("ark_backup_warning_total")), 1)
      assert.strictEqual(sampleOf(completed, series("ark_backup_last_errors")), 0)
      assert.strictEqual(sampleOf(completed, series("ark_backup_last_items")), 4)
      assert.strictEqual(sampleOf(completed, series("ark_backup_last_status")), 1)
      assert.strictEqual(sampleOf(completed, series("ark_backup_tarball_size_bytes")), 200)
      assert.strictEqual(sampleOf(completed, series("ark_backup_bytes_total")), 500)
      assert.strictEqual(sampleOf(completed, series("ark_volume_snapshot_attempt_total")), 4)
      assert.strictEqual(sampleOf(completed, series("ark_volume_snapshot_failure_total")), 1)

      // A run that fails outright leaves the tarball size of the last one that finished.
      yield* Effect.fail("boom").pipe(observeBackup(schedule, Effect.succeed(1)), Effect.flip)
      const failed = yield* scrape
      assert.strictEqual(sampleOf(failed, series("ark_backup_last_status")), 0)
      assert.strictEqual(sampleOf(failed, series("ark_backup_tarball_size_bytes")), 200)
    }))

  it.effect("a run that fails or is interrupted counts as Failed and leaves nothing in progress; PartiallyFailed has no last success", () =>
    Effect.gen(function*() {
      const before = yield* scrape
      const failed = yield* Effect.fail("boom").pipe(observeBackup("unit-failed", Effect.succeed(1)), Effect.flip)
      assert.strictEqual(failed, "boom")
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        Deferred.succeed(started, undefined).pipe(
          Effect.zipRight(Effect.never),
          observeBackup("unit-interrupted", Effect.succeed(1))
        )
      )
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      yield* Effect.succeed(completedBackup(3, "PartiallyFailed")).pipe(
        observeBackup("unit-partial", Effect.succeed(50))
      )
      const after = yield* scrape
      assert.strictEqual(sampleOf(after, "ark_backup_failure_total{schedule=\"unit-failed\"}"), 1)
      assert.strictEqual(sampleOf(after, "ark_backup_failure_total{schedule=\"unit-interrupted\"}"), 1)
      assert.strictEqual(sampleOf(after, "ark_backup_duration_seconds_count{schedule=\"unit-interrupted\"}"), 1)
      assert.strictEqual(sampleOf(after, "ark_backup_bytes_total{schedule=\"unit-failed\"}"), 0)
      assert.strictEqual(sampleOf(after, "ark_backup_partial_failure_total{schedule=\"unit-partial\"}"), 1)
      assert.strictEqual(sampleOf(after, "ark_backup_bytes_total{schedule=\"unit-partial\"}"), 50)
      assert.notInclude(after, "ark_backup_last_successful_timestamp{schedule=\"unit-partial\"}")
      assert.strictEqual(sampleOf(after, "ark_backup_last_status{schedule=\"unit-failed\"}"), 0)
      assert.include(after, "ark_backup_last_status{schedule=\"unit-interrupted\"} 0\n")
      assert.strictEqual(sampleOf(after, "ark_backup_in_progress"), sampleOf(before, "ark_backup_in_progress"))
    }))

  it.effect("a restore's items come from progress.itemsRestored, its concurrency from its window", () =>
    Effect.gen(function*() {
      const restore = { status: { phase: "Completed", progress: { totalItems: 4, itemsRestored: 4 } } }
      const counts = { created: 4, unchanged: 0, updated: 0, differs: 0, skipped: 0, failed: 0 }
      yield* Effect.succeed({
        restore: restore as unknown as Restore,
        counts,
        window: { size: 24, peak: 30, throttled: 2 }
      })
        .pipe(observeRestore("unit-restore"))
      const text = yield* scrape
      assert.strictEqual(sampleOf(text, "ark_restore_success_total{schedule=\"unit-restore\"}"), 1)
      assert.strictEqual(sampleOf(text, "ark_restore_items_total{schedule=\"unit-restore\"}"), 4)
      assert.strictEqual(sampleOf(text, "ark_restore_concurrency"), 24)
    }))

  it.effect("the byte count is the last complete upload of the tarball key only", () =>
    Effect.gen(function*() {
      const store = yield* MemoryObjectStore.make()
      const counted = yield* countUploadedBytes(store, "backups/b/b.tar.gz")
      const bytes = (...sizes: ReadonlyArray<number>) => Stream.fromIterable(sizes.map((size) => new Uint8Array(size)))
      yield* counted.store.put("backups/b/b.tar.gz", bytes(100, 20, 3))
      assert.strictEqual(yield* counted.bytes, 123)
      yield* counted.store.put("backups/b/b-logs.gz", bytes(999))
      assert.strictEqual(yield* counted.bytes, 123)
      // An upload that breaks off does not count; the one after it does.
      const broken = Stream.concat(
        bytes(500),
        Stream.fail(new ObjectStoreError({ operation: "put", key: "k", message: "gone", retryable: false }))
      )
      yield* counted.store.put("backups/b/b.tar.gz", broken).pipe(Effect.flip)
      assert.strictEqual(yield* counted.bytes, 123)
      yield* counted.store.put("backups/b/b.tar.gz", bytes(40))
      assert.strictEqual(yield* counted.bytes, 40)
      const stored = yield* Stream.runCollect(store.get("backups/b/b.tar.gz"))
      assert.strictEqual(Chunk.reduce(stored, 0, (total, chunk) => total + chunk.byteLength), 40)
    }))
})

const restores = gvr("restores")
const deleteRequests = gvr("deletebackuprequests")

/** Waits until the population gauges say how many Backups and Restores exist. */
const populations = (backupCount: number, restoreCount: number) =>
  waitFor(
    `ark_backups ${backupCount} and ark_restores ${restoreCount}`,
    Effect.map(scrape, (text) =>
      Option.some(text).pipe(
        Option.filter(() =>
          sampleOf(text, "ark_backups") === backupCount && sampleOf(text, "ark_restores") === restoreCount
        )
      )),
    "60 seconds"
  )

const restoreOf = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "ark.heptio.com/v1",
  kind: "Restore",
  metadata: { name, namespace: serverNamespace },
  spec
})

const scheduled = (name: string, schedule: string, spec: Record<string, unknown>): KubeObject => {
  const object = backup(name, spec)
  return { ...object, metadata: { ...object.metadata, labels: { "ark.heptio.com/schedule-name": schedule } } }
}

describe("controller metrics", () => {
  it.scopedLive(
    "backups and restores through the controllers leave the expected counters, histograms and gauges",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const stores = yield* MemoryObjectStores
        yield* installArk
        yield* seedApp("shop", 3)
        yield* kube.create(locations, location("default", {}))
        // A backup of this name is already committed in storage: its run ends Failed.
        yield* (yield* stores.store("ark")).put(
          "backups/taken/ark-backup.json",
          Stream.make(new TextEncoder().encode("{}"))
        )
        const before = yield* scrape
        yield* Layer.build(controllers({
          namespace: serverNamespace,
          restoreOnly: false,
          backupConcurrency: 2,
          locationValidationPeriod: "1 hour",
          progressInterval: "50 millis"
        }))

        const startedMillis = yield* Clock.currentTimeMillis
        yield* kube.create(backups, scheduled("nightly-1", "metrics-nightly", { includedNamespaces: ["shop"] }))
        const done = statusOf(yield* waitForPhase(backups, "nightly-1", "Completed", "PartiallyFailed", "Failed"))
        assert.strictEqual(done["phase"], "Completed", JSON.stringify(done))
        yield* kube.create(backups, scheduled("taken", "metrics-taken", {}))
        assert.strictEqual(statusOf(yield* waitForPhase(backups, "taken", "Completed", "Failed"))["phase"], "Failed")
        yield* kube.create(backups, backup("invalid", { includedResources: ["flibbertigibbets"] }))
        yield* waitForPhase(backups, "invalid", "FailedValidation")

        yield* kube.create(
          restores,
          restoreOf("from-schedule", { scheduleName: "metrics-nightly", namespaceMapping: { shop: "shop-copy" } })
        )
        const restored = statusOf(
          yield* waitForPhase(restores, "from-schedule", "Completed", "PartiallyFailed", "Failed", "FailedValidation")
        )
        assert.strictEqual(restored["phase"], "Completed", JSON.stringify(restored))
        yield* kube.create(restores, restoreOf("from-ghost", { backupName: "ghost" }))
        yield* waitForPhase(restores, "from-ghost", "FailedValidation")

        const text = yield* scrape
        const nightly = (name: string) => sampleOf(text, `${name}{schedule="metrics-nightly"}`)
        const delta = (series: string) => sampleOf(text, series) - sampleOf(before, series)

        assert.strictEqual(nightly("ark_backup_attempt_total"), 1)
        assert.strictEqual(nightly("ark_backup_success_total"), 1)
        assert.strictEqual(nightly("ark_backup_failure_total"), 0)
        assert.strictEqual(nightly("ark_backup_duration_seconds_count"), 1)
        assert.strictEqual(
          sampleOf(text, "ark_backup_duration_seconds_bucket{schedule=\"metrics-nightly\",le=\"+Inf\"}"),
          1
        )
        const items = (done["progress"] as { itemsBackedUp: number }).itemsBackedUp
        assert.isAtLeast(items, 3)
        assert.strictEqual(nightly("ark_backup_items_total"), items)
        const listing = yield* (yield* stores.store("ark")).list("backups/nightly-1/")
        const tarball = listing.objects.find((object) => object.key === "backups/nightly-1/nightly-1.tar.gz")
        assert.isDefined(tarball)
        assert.isAbove(tarball?.size ?? 0, 0)
        assert.strictEqual(nightly("ark_backup_bytes_total"), tarball?.size)
        const lastSuccess = nightly("ark_backup_last_successful_timestamp")
        assert.isAtLeast(lastSuccess, startedMillis / 1000)
        assert.isAtMost(lastSuccess, (yield* Clock.currentTimeMillis) / 1000)

        assert.strictEqual(sampleOf(text, "ark_backup_attempt_total{schedule=\"metrics-taken\"}"), 1)
        assert.strictEqual(sampleOf(text, "ark_backup_failure_total{schedule=\"metrics-taken\"}"), 1)
        assert.strictEqual(sampleOf(text, "ark_backup_bytes_total{schedule=\"metrics-taken\"}"), 0)
        assert.notInclude(text, "ark_backup_last_successful_timestamp{schedule=\"metrics-taken\"}")
        assert.strictEqual(delta("ark_backup_validation_failure_total{schedule=\"\"}"), 1)
        assert.strictEqual(delta("ark_backup_attempt_total{schedule=\"\"}"), 0)
        assert.strictEqual(sampleOf(text, "ark_backup_in_progress"), 0)

        assert.strictEqual(nightly("ark_restore_attempt_total"), 1)
        assert.strictEqual(nightly("ark_restore_success_total"), 1)
        assert.strictEqual(nightly("ark_restore_duration_seconds_count"), 1)
        assert.strictEqual(
          nightly("ark_restore_items_total"),
          (restored["progress"] as { itemsRestored: number }).itemsRestored
        )
        assert.isAtLeast(nightly("ark_restore_items_total"), 3)
        assert.strictEqual(delta("ark_restore_validation_failure_total{schedule=\"\"}"), 1)
        assert.strictEqual(delta("ark_restore_attempt_total{schedule=\"\"}"), 0)
        assert.strictEqual(sampleOf(text, "ark_restore_in_progress"), 0)

        assert.strictEqual(nightly("ark_backup_last_status"), 1)
        assert.strictEqual(nightly("ark_backup_tarball_size_bytes"), tarball?.size)
        assert.strictEqual(nightly("ark_backup_last_items"), items)
        assert.strictEqual(nightly("ark_backup_last_errors"), 0)
        assert.strictEqual(sampleOf(text, "ark_backup_last_status{schedule=\"metrics-taken\"}"), 0)
        // The only hand-made backup here failed validation.
        assert.include(text, "ark_backup_last_status{schedule=\"\"} 0\n")
        assert.strictEqual(sampleOf(text, "ark_backup_location_available{backup_location_name=\"default\"}"), 1)
        yield* populations(3, 2)

        // Deleting the scheduled backup: one attempt, one success; its restore goes with it.
        const request = yield* kube.create(deleteRequests, newDeleteBackupRequest("nightly-1", serverNamespace))
        yield* waitForPhase(deleteRequests, request.metadata.name ?? "", "Processed")
        const deleted = yield* scrape
        assert.strictEqual(sampleOf(deleted, "ark_backup_deletion_attempt_total{schedule=\"metrics-nightly\"}"), 1)
        assert.strictEqual(sampleOf(deleted, "ark_backup_deletion_success_total{schedule=\"metrics-nightly\"}"), 1)
        assert.strictEqual(sampleOf(deleted, "ark_backup_deletion_failure_total{schedule=\"metrics-nightly\"}"), 0)
        yield* populations(2, 1)

        // Everything on the page together is what Prometheus accepts.
        const page = parseExposition(renderFamilies(familiesOf(yield* arkSnapshot)))
        assert.strictEqual(page.get("ark_backup_deletion_attempt_total")?.type, "counter")
        assert.strictEqual(page.get("ark_backup_duration_seconds")?.type, "histogram")
        assert.strictEqual(valueOf(page, "ark_backups"), 2)
      }).pipe(Effect.provide(memoryLayer))
  )
})

describe("deletion and location metrics", () => {
  it.scopedLive("a refused deletion counts an attempt and a failure; a request for a missing backup counts nothing", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* installArk
      yield* installLocation("archive", "ReadOnly")
      yield* seedBackup("kept", { location: "archive" })
      yield* kube.patch(backups, "kept", {
        type: "merge",
        body: { metadata: { labels: { "ark.heptio.com/schedule-name": "metrics-readonly" } } }
      }, serverNamespace)
      const before = yield* scrape
      yield* Layer.build(BackupDeletionController.layer({ namespace: serverNamespace }))

      for (const backupName of ["kept", "ghost"]) {
        const request = yield* kube.create(deleteRequests, newDeleteBackupRequest(backupName, serverNamespace))
        yield* waitForPhase(deleteRequests, request.metadata.name ?? "", "Processed")
      }
      const after = yield* scrape
      const readOnly = (name: string) => sampleOf(after, `${name}{schedule="metrics-readonly"}`)
      assert.strictEqual(readOnly("ark_backup_deletion_attempt_total"), 1)
      assert.strictEqual(readOnly("ark_backup_deletion_failure_total"), 1)
      assert.strictEqual(readOnly("ark_backup_deletion_success_total"), 0)
      const manual = "ark_backup_deletion_attempt_total{schedule=\"\"}"
      assert.strictEqual(sampleOf(after, manual), sampleOf(before, manual))
    }).pipe(Effect.provide(deletionLayer)))

  it.scopedLive("a location's availability follows its checks: 1 reachable, 0 not, 1 again once it is back", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      const stores = yield* MemoryObjectStores
      yield* installArk
      yield* kube.create(locations, location("near", { objectStorage: { bucket: "near" } }))
      yield* kube.create(locations, location("far", { objectStorage: { bucket: "far" } }))
      yield* stores.unreachable("far", "connection refused")
      yield* Layer.build(LocationController.layer({ namespace: serverNamespace, validationPeriod: "200 millis" }))

      const shows = (what: string, ...lines: ReadonlyArray<string>) =>
        waitFor(
          what,
          Effect.map(
            scrape,
            (text) => Option.some(text).pipe(Option.filter(() => lines.every((l) => text.includes(l))))
          ),
          "60 seconds"
        )
      const availability = (name: string, value: number) =>
        `ark_backup_location_available{backup_location_name="${name}"} ${value}\n`
      yield* shows("near available, far not", availability("near", 1), availability("far", 0))
      yield* stores.reachable("far")
      yield* shows("far available again", availability("far", 1))
    }).pipe(Effect.provide(memoryLayer)))
})
