// Issue 8 through real `ark server` processes on the real cluster and MinIO: a kill -9 in the middle
// of a backup and the restart that cleans it up, two replicas on one Lease (one leads, the other
// takes over when it stops), /healthz /readyz /metrics after a backup, a restore and a deletion, and a SIGTERM
// in the middle of a backup that exits cleanly.
//
// A backup is held mid-way by a pre hook that sleeps: hooks run after the tarball is uploaded and
// before anything else, so while it sleeps the tarball is in MinIO and nothing is committed.
import { randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"

import { assert, describe, it } from "@effect/vitest"
import type { Duration } from "effect"
import { Effect, Option } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { apiVersion } from "../../src/api/index.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { newDeleteBackupRequest } from "../../src/deletion/requests.ts"
import { interruptedByRestart, interruptedByShutdown } from "../../src/server/controllers/backup.ts"
import { leasesGvr } from "../../src/server/leader.ts"
import { leaseName } from "../../src/server/main.ts"
import { parseExposition, valueOf } from "../support/exposition.ts"
import { DeadlineExceeded, waitFor } from "../support/wait.ts"
import { gvr } from "./backupFixtures.ts"
import { liveKube } from "./live.ts"
import type { S3Target, ServerProcess } from "./serverProcess.ts"
import {
  arkGvr,
  arkServer,
  finished,
  keysUnder,
  kubeconfigOf,
  logged,
  metricsUrl,
  serverNamespace,
  sharedMinio,
  statusOf,
  waitForObject
} from "./serverProcess.ts"

const run = randomUUID().slice(0, 8)

const pre = "pre.hook.backup.ark.heptio.com"

/**
 * A namespace (deleted afterwards) of three labelled ConfigMaps and, when `hang`, a Running pod whose
 * pre hook sleeps five minutes: far longer than any wait below, so a server that waited for it shows.
 */
const appNamespace = (name: string, hang: boolean) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* Effect.acquireRelease(
      kube.create(gvr.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name } }),
      () => kube.delete(gvr.namespaces, name).pipe(Effect.ignore)
    )
    for (let i = 0; i < 3; i++) {
      yield* kube.create(gvr.configMaps, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `settings-${i}`, namespace: name, labels: { "ark-it/app": "settings" } },
        data: { i: String(i) }
      })
    }
    if (!hang) return
    yield* kube.create(gvr.pods, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "db",
        namespace: name,
        annotations: { [`${pre}/command`]: JSON.stringify(["sleep", "300"]), [`${pre}/timeout`]: "600s" }
      },
      spec: { containers: [{ name: "app", image: "busybox", command: ["sleep", "3600"] }] }
    })
    yield* waitFor(
      `pod ${name}/db Running`,
      kube.get(gvr.pods, "db", name).pipe(Effect.map((pod) =>
        (pod["status"] as { phase?: string } | undefined)?.phase === "Running" ? Option.some(pod) : Option.none()
      )),
      "120 seconds"
    )
  })

const createBackup = (name: string, namespace: string, spec: Record<string, unknown>) =>
  Effect.flatMap(
    KubeClient,
    (kube) =>
      kube.create(
        arkGvr.backups,
        { apiVersion, kind: "Backup", metadata: { name, namespace }, spec } satisfies KubeObject
      )
  )

/** Prints the server's output when `effect` fails, so a failure shows what the server did. */
const showing = (...servers: ReadonlyArray<ServerProcess>) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.tapError(() => Effect.sync(() => servers.forEach((server) => console.error(server.output())))))

const waitFinished = (name: string, namespace: string) =>
  waitForObject(arkGvr.backups, name, namespace, "finished", finished)

/** Waits until the backup is InProgress with its tarball in MinIO: stuck in its sleeping hook. */
const waitHanging = (s3: S3Target, name: string, namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    return yield* waitFor(
      `backup ${name} InProgress with its tarball uploaded`,
      Effect.gen(function*() {
        const backup = yield* kube.get(arkGvr.backups, name, namespace)
        if (statusOf(backup)["phase"] !== "InProgress") return Option.none()
        const keys = yield* keysUnder(s3, backupKeys(name).dir)
        return keys.includes(backupKeys(name).tarball) ? Option.some(keys) : Option.none()
      }),
      "120 seconds"
    )
  })

/** Awaits the process's exit code, failing after `deadline` (a shutdown takes seconds, more on a loaded machine). */
const exitCode = (server: ServerProcess, deadline: Duration.DurationInput = "120 seconds") =>
  Effect.promise(() => server.exited).pipe(
    Effect.timeoutFail({ duration: deadline, onTimeout: () => new DeadlineExceeded({ what: "the server to exit" }) })
  )

/** How many times the server logged "backup started" for each `<namespace>/<backup>`. */
const backupsStarted = (server: ServerProcess) => {
  const counts = new Map<string, number>()
  for (const entry of logged(server, "backup started")) {
    const resource = String(entry.annotations?.["resource"])
    counts.set(resource, (counts.get(resource) ?? 0) + 1)
  }
  return counts
}

const acquired = (server: ServerProcess) => logged(server, "acquired the leader lease", true)

const leaseSpec = (namespace: string) =>
  Effect.flatMap(KubeClient, (kube) => kube.get(leasesGvr, leaseName, namespace)).pipe(
    Effect.map((lease) => (lease["spec"] as { holderIdentity?: string; leaseTransitions?: number } | undefined) ?? {})
  )

const holderOf = (namespace: string) => Effect.map(leaseSpec(namespace), (spec) => spec.holderIdentity ?? "")

/** Waits until the server logged that it holds the lease; returns the identity it logged. */
const waitLeader = (server: ServerProcess, deadline: Duration.DurationInput) =>
  waitFor(
    "the leader lease acquired",
    Effect.sync(() =>
      Option.fromNullable(acquired(server)[0]?.annotations?.["identity"]).pipe(
        Option.map((identity) => String(identity))
      )
    ),
    deadline
  )

/** The value of one sample (`name{labels}`) of a Prometheus text page. */
const sample = (page: string, series: string): number | undefined => {
  const line = page.split("\n").find((candidate) => candidate.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

const get = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return {
      status: response.status,
      contentType: response.headers.get("content-type") ?? "",
      body: await response.text()
    }
  })

describe("ark server as a product: crashes, replicas, metrics, shutdown", () => {
  it.live(
    "kill -9 mid-backup: nothing committed; the next server fails it, removes its files, and backs up again",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const namespace = `ark-it-prod-kill-srv-${run}`
        const app = `ark-it-prod-kill-app-${run}`
        const s3 = yield* sharedMinio(`ark-it-prod-kill-${run}`)
        yield* serverNamespace(namespace, s3)
        yield* appNamespace(app, true)
        const kubeconfig = yield* kubeconfigOf(1)

        const first = yield* arkServer(kubeconfig, namespace)
        yield* createBackup("cut", namespace, { includedNamespaces: [app], ttl: "1h" })
        const partial = yield* waitHanging(s3, "cut", namespace).pipe(showing(first))
        first.kill("SIGKILL")
        assert.strictEqual(yield* exitCode(first), null, "killed by a signal")
        // Uploaded but never committed, and still InProgress: nobody is left to say otherwise.
        assert.include(partial, backupKeys("cut").tarball)
        const afterKill = yield* keysUnder(s3, backupKeys("cut").dir)
        assert.include(afterKill, backupKeys("cut").tarball)
        assert.notInclude(afterKill, backupKeys("cut").metadata)
        assert.strictEqual(statusOf(yield* kube.get(arkGvr.backups, "cut", namespace))["phase"], "InProgress")

        // The second server waits out the dead holder's lease, then recovers the backup.
        const second = yield* arkServer(kubeconfig, namespace)
        const failed = yield* waitFinished("cut", namespace).pipe(showing(second))
        assert.deepInclude(statusOf(failed), { phase: "Failed", failureReason: interruptedByRestart })
        assert.isString(statusOf(failed)["completionTimestamp"])
        assert.deepStrictEqual(yield* keysUnder(s3, backupKeys("cut").dir), [])
        assert.lengthOf(acquired(second), 1)

        // It works as usual afterwards (the ConfigMaps only: no hooked pod).
        yield* createBackup("again", namespace, {
          includedNamespaces: [app],
          includedResources: ["configmaps"],
          ttl: "1h"
        })
        const again = yield* waitFinished("again", namespace).pipe(showing(second))
        assert.strictEqual(statusOf(again)["phase"], "Completed", JSON.stringify(statusOf(again)))
        assert.include(yield* keysUnder(s3, backupKeys("again").dir), backupKeys("again").metadata)
        // The failed one was not run again.
        assert.isUndefined(backupsStarted(second).get(`${namespace}/cut`))
      }).pipe(Effect.scoped, Effect.provide(liveKube())),
    300_000
  )

  it.live(
    "two replicas: one holds the Lease and runs every backup exactly once; on SIGTERM the other takes over at once",
    () =>
      Effect.gen(function*() {
        const namespace = `ark-it-prod-ha-srv-${run}`
        const app = `ark-it-prod-ha-app-${run}`
        const s3 = yield* sharedMinio(`ark-it-prod-ha-${run}`)
        yield* serverNamespace(namespace, s3)
        yield* appNamespace(app, false)
        const kubeconfig = yield* kubeconfigOf(1)
        const servers = [yield* arkServer(kubeconfig, namespace), yield* arkServer(kubeconfig, namespace)] as const
        const show = showing(...servers)

        // Both are candidates; one wins.
        yield* waitFor(
          "both replicas waiting for or holding the lease",
          Effect.sync(() => (servers.every((server) =>
              logged(server, "waiting for the leader lease", true).length === 1
            )
            ? Option.some(true)
            : Option.none())
          ),
          "60 seconds"
        ).pipe(show)
        const identity = yield* waitFor(
          "one replica acquiring the lease",
          Effect.sync(() => {
            const winners = servers.flatMap((server) => acquired(server))
            return winners.length > 0 ? Option.some(String(winners[0]?.annotations?.["identity"])) : Option.none()
          }),
          "60 seconds"
        ).pipe(show)
        const [leader, standby] = acquired(servers[0]).length > 0 ? servers : [servers[1], servers[0]]
        assert.strictEqual(yield* holderOf(namespace), identity)

        const names = [0, 1, 2, 3].map((i) => `many-${i}`)
        for (const name of names) yield* createBackup(name, namespace, { includedNamespaces: [app], ttl: "1h" })
        for (const name of names) {
          const done = yield* waitFinished(name, namespace).pipe(show)
          assert.strictEqual(statusOf(done)["phase"], "Completed", JSON.stringify(statusOf(done)))
          const keys = yield* keysUnder(s3, backupKeys(name).dir)
          assert.strictEqual(keys.filter((key) => key === backupKeys(name).metadata).length, 1)
        }
        // Only the leader ran them, each once; the standby never led.
        assert.deepStrictEqual(
          Object.fromEntries(backupsStarted(leader)),
          Object.fromEntries(names.map((name) => [`${namespace}/${name}`, 1]))
        )
        assert.strictEqual(backupsStarted(standby).size, 0)
        assert.lengthOf(acquired(leader), 1)
        assert.lengthOf(acquired(standby), 0)
        assert.strictEqual(yield* holderOf(namespace), identity)

        // SIGTERM: the leader releases the lease on its way out, so the standby needs no 15s expiry.
        // Taking over an expired lease counts a transition; taking a released one does not.
        const transitions = (yield* leaseSpec(namespace)).leaseTransitions ?? 0
        leader.kill("SIGTERM")
        assert.strictEqual(yield* exitCode(leader), 0)
        const successor = yield* waitLeader(standby, "60 seconds").pipe(show)
        assert.notStrictEqual(successor, identity)
        const taken = yield* leaseSpec(namespace)
        assert.strictEqual(taken.holderIdentity, successor)
        assert.strictEqual(
          taken.leaseTransitions ?? 0,
          transitions,
          "the standby took a released lease, not an expired one"
        )
        yield* createBackup("after-failover", namespace, { includedNamespaces: [app], ttl: "1h" })
        const after = yield* waitFinished("after-failover", namespace).pipe(show)
        assert.strictEqual(statusOf(after)["phase"], "Completed", JSON.stringify(statusOf(after)))
        assert.strictEqual(backupsStarted(standby).get(`${namespace}/after-failover`), 1)
        // The new leader took the earlier backups as they were.
        assert.strictEqual(backupsStarted(standby).size, 1)
      }).pipe(Effect.scoped, Effect.provide(liveKube())),
    300_000
  )

  it.live(
    "/healthz, /readyz and /metrics count a backup, a restore and a deletion, a schedule's interval, and the process",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const namespace = `ark-it-prod-metrics-srv-${run}`
        const app = `ark-it-prod-metrics-app-${run}`
        const copy = `${app}-copy`
        yield* serverNamespace(namespace, yield* sharedMinio(`ark-it-prod-metrics-${run}`))
        yield* appNamespace(app, false)
        yield* Effect.addFinalizer(() => kube.delete(gvr.namespaces, copy).pipe(Effect.ignore))
        const server = yield* arkServer(yield* kubeconfigOf(1), namespace)
        const url = yield* metricsUrl(server).pipe(showing(server))

        const health = yield* get(`${url}/healthz`)
        assert.strictEqual(health.status, 200)
        yield* waitFor(
          "/readyz 200",
          get(`${url}/readyz`).pipe(
            Effect.map((response) => (response.status === 200 ? Option.some(response) : Option.none()))
          ),
          "60 seconds"
        ).pipe(showing(server))
        assert.strictEqual((yield* get(`${url}/nope`)).status, 404)

        yield* createBackup("counted", namespace, { includedNamespaces: [app], ttl: "1h" })
        const backup = yield* waitFinished("counted", namespace).pipe(showing(server))
        assert.strictEqual(statusOf(backup)["phase"], "Completed", JSON.stringify(statusOf(backup)))
        yield* kube.create(arkGvr.restores, {
          apiVersion,
          kind: "Restore",
          metadata: { name: "counted-restore", namespace },
          spec: {
            backupName: "counted",
            namespaceMapping: { [app]: copy },
            labelSelector: { matchLabels: { "ark-it/app": "settings" } }
          }
        })
        const restore = yield* waitForObject(arkGvr.restores, "counted-restore", namespace, "finished", finished).pipe(
          showing(server)
        )
        assert.strictEqual(statusOf(restore)["phase"], "Completed", JSON.stringify(statusOf(restore)))
        assert.deepStrictEqual((yield* kube.get(gvr.configMaps, "settings-1", copy))["data"], { i: "1" })

        const metrics = yield* get(`${url}/metrics`)
        assert.strictEqual(metrics.status, 200)
        assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/)
        const value = (series: string) => sample(metrics.body, series)
        // This process ran one backup and one restore, both by hand (schedule "").
        assert.deepStrictEqual(
          {
            attempts: value(`ark_backup_attempt_total{schedule=""}`),
            successes: value(`ark_backup_success_total{schedule=""}`),
            failures: value(`ark_backup_failure_total{schedule=""}`),
            durations: value(`ark_backup_duration_seconds_count{schedule=""}`),
            inProgress: value("ark_backup_in_progress"),
            restoreAttempts: value(`ark_restore_attempt_total{schedule=""}`),
            restoreSuccesses: value(`ark_restore_success_total{schedule=""}`)
          },
          {
            attempts: 1,
            successes: 1,
            failures: 0,
            durations: 1,
            inProgress: 0,
            restoreAttempts: 1,
            restoreSuccesses: 1
          },
          metrics.body
        )
        // The namespace's three ConfigMaps at least, and as many as the backup reported.
        const items = value(`ark_backup_items_total{schedule=""}`) ?? 0
        assert.isAtLeast(items, 3)
        assert.strictEqual(
          items,
          (statusOf(backup)["progress"] as { itemsBackedUp?: number } | undefined)?.itemsBackedUp
        )
        assert.isAbove(value(`ark_backup_bytes_total{schedule=""}`) ?? 0, 0)
        assert.isAbove(value(`ark_restore_items_total{schedule=""}`) ?? 0, 0)
        // Where the restore's concurrency window ended: set before the status that says it finished.
        assert.isAtLeast(value("ark_restore_concurrency") ?? 0, 1, metrics.body)
        yield* waitFor(
          "the server's log line with the restore's settled concurrency",
          Effect.sync(() =>
            Option.fromNullable(server.output().match(/restore finished: Completed, concurrency settled at \d+/))
          ),
          "30 seconds"
        ).pipe(showing(server))
        assert.include(metrics.body, "# TYPE ark_backup_duration_seconds histogram")

        // Deleting the backup (its restore goes with it), as `ark backup delete` asks for it.
        const request = yield* kube.create(arkGvr.deleteBackupRequests, newDeleteBackupRequest("counted", namespace))
        yield* waitForObject(
          arkGvr.deleteBackupRequests,
          request.metadata.name ?? "",
          namespace,
          "Processed",
          (object) => statusOf(object)["phase"] === "Processed"
        ).pipe(showing(server))
        // The population gauges follow the watch; the counters were set before the request was Processed.
        const page = yield* waitFor(
          "ark_backups and ark_restores 0",
          get(`${url}/metrics`).pipe(Effect.map((response) => {
            const families = parseExposition(response.body)
            return valueOf(families, "ark_backups") === 0 && valueOf(families, "ark_restores") === 0
              ? Option.some(families)
              : Option.none()
          })),
          "60 seconds"
        ).pipe(showing(server))
        const manual = (name: string) => valueOf(page, name, { schedule: "" })
        assert.deepStrictEqual(
          {
            deletionAttempts: manual("ark_backup_deletion_attempt_total"),
            deletionSuccesses: manual("ark_backup_deletion_success_total"),
            deletionFailures: manual("ark_backup_deletion_failure_total"),
            lastStatus: manual("ark_backup_last_status"),
            lastItems: manual("ark_backup_last_items"),
            lastErrors: manual("ark_backup_last_errors"),
            warnings: manual("ark_backup_warning_total"),
            tarballSize: manual("ark_backup_tarball_size_bytes"),
            snapshots: manual("ark_volume_snapshot_attempt_total"),
            locationAvailable: valueOf(page, "ark_backup_location_available", { backup_location_name: "default" })
          },
          {
            deletionAttempts: 1,
            deletionSuccesses: 1,
            deletionFailures: 0,
            lastStatus: 1,
            lastItems: items,
            lastErrors: 0,
            warnings: 0,
            tarballSize: value(`ark_backup_bytes_total{schedule=""}`),
            snapshots: 0,
            locationAvailable: 1
          }
        )
        // A schedule's expected interval (Velero's schedule_expected_interval_seconds), while it exists.
        const interval = (present: boolean) =>
          waitFor(
            `ark_schedule_expected_interval_seconds of counted-daily ${present ? "6 h" : "gone"}`,
            get(`${url}/metrics`).pipe(Effect.map((response) => {
              const seconds = valueOf(
                parseExposition(response.body),
                "ark_schedule_expected_interval_seconds",
                { schedule: "counted-daily" }
              )
              return (present ? seconds === 6 * 3600 : seconds === undefined) ? Option.some(true) : Option.none()
            })),
            "60 seconds"
          ).pipe(showing(server))
        yield* kube.create(arkGvr.schedules, {
          apiVersion,
          kind: "Schedule",
          metadata: { name: "counted-daily", namespace },
          spec: { schedule: "@every 6h", paused: true, template: { includedNamespaces: [app] } }
        })
        yield* interval(true)
        yield* kube.delete(arkGvr.schedules, "counted-daily", namespace)
        yield* interval(false)

        // The server's own process: its RSS as /proc says, a start before this scrape, CPU spent.
        const procRss = Number(/^VmRSS:\s*(\d+) kB$/m.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1]) *
          1024
        const rss = valueOf(page, "process_resident_memory_bytes") ?? 0
        assert.isAbove(rss, procRss / 2)
        assert.isBelow(rss, procRss * 2)
        assert.isAtMost(valueOf(page, "process_start_time_seconds") ?? Infinity, Date.now() / 1000)
        assert.isAbove(valueOf(page, "process_cpu_seconds_total") ?? 0, 0)
        assert.isAbove(valueOf(page, "nodejs_heap_size_used_bytes") ?? 0, 0)
        assert.isDefined(valueOf(page, "nodejs_eventloop_lag_p99_seconds"))
        assert.deepStrictEqual([...page.keys()].filter((name) => !/^(ark|process|nodejs)_/.test(name)), [])
      }).pipe(Effect.scoped, Effect.provide(liveKube())),
    300_000
  )

  it.live(
    "SIGTERM mid-backup: the server exits 0 and the backup is Failed, uncommitted, its files removed",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const namespace = `ark-it-prod-term-srv-${run}`
        const app = `ark-it-prod-term-app-${run}`
        const s3 = yield* sharedMinio(`ark-it-prod-term-${run}`)
        yield* serverNamespace(namespace, s3)
        yield* appNamespace(app, true)
        const server = yield* arkServer(yield* kubeconfigOf(1), namespace)
        yield* createBackup("stopped", namespace, { includedNamespaces: [app], ttl: "1h" })
        yield* waitHanging(s3, "stopped", namespace).pipe(showing(server))

        // The hook sleeps five minutes: exiting within exitCode's deadline shows the server did not wait for it.
        server.kill("SIGTERM")
        assert.strictEqual(yield* exitCode(server).pipe(showing(server)), 0, server.output())
        const backup = yield* kube.get(arkGvr.backups, "stopped", namespace)
        assert.deepInclude(statusOf(backup), { phase: "Failed", failureReason: interruptedByShutdown })
        assert.deepStrictEqual(yield* keysUnder(s3, backupKeys("stopped").dir), [])
        assert.lengthOf(logged(server, "ark server stopped"), 1)
      }).pipe(Effect.scoped, Effect.provide(liveKube())),
    300_000
  )
})
