// Issue 7 on real components, each through real `ark server` processes: a Schedule's first backup,
// TTL expiry that removes the resource, the files in MinIO, the moto snapshot and the backup's
// restores; a migration from cluster 1 to cluster 2 through one bucket; and a MinIO outage during
// which sync deletes nothing.
import { randomUUID } from "node:crypto"

import { CreateVolumeCommand, DeleteVolumeCommand, DescribeSnapshotsCommand, EC2Client } from "@aws-sdk/client-ec2"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Config, DateTime, Effect, Layer, Option } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { apiVersion, scheduleNameLabel } from "../../src/api/index.ts"
import { waitFor } from "../support/wait.ts"
import { gvr } from "./backupFixtures.ts"
import { liveKube } from "./live.ts"
import { privateMinio } from "./privateMinio.ts"
import {
  arkGvr,
  arkServer,
  finished,
  keysUnder,
  kubeconfigOf,
  listAll,
  serverNamespace,
  sharedMinio,
  statusOf,
  waitForGone,
  waitForImport,
  waitForObject
} from "./serverProcess.ts"
import { boundClaim } from "./volumeFixtures.ts"

const run = randomUUID().slice(0, 8)

/** A namespace of a few ConfigMaps and a Deployment, deleted afterwards. */
const appNamespace = (name: string) =>
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
        metadata: { name: `settings-${i}`, namespace: name },
        data: { i: String(i) }
      })
    }
    yield* kube.create(gvr.deployments, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: name },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } }
      }
    })
  })

const backupObject = (name: string, namespace: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion,
  kind: "Backup",
  metadata: { name, namespace },
  spec
})

/** Creates a Backup and waits until it ends; it must complete. */
const backUp = (name: string, namespace: string, spec: Record<string, unknown>, output: () => string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* kube.create(arkGvr.backups, backupObject(name, namespace, spec))
    const done = yield* waitForObject(arkGvr.backups, name, namespace, "finished", finished).pipe(
      Effect.tapError(() => Effect.sync(() => console.error(output())))
    )
    assert.strictEqual(statusOf(done)["phase"], "Completed", JSON.stringify(statusOf(done)))
    return done
  })

describe("schedules, expiry, sync and migration through ark server", () => {
  it.live(
    "a Schedule produces its first backup at once, named <schedule>-<YYYYMMDDhhmmss> and labelled",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const namespace = `ark-it-sched-srv-${run}`
        const app = `ark-it-sched-app-${run}`
        yield* serverNamespace(namespace, yield* sharedMinio(`ark-it-sched-${run}`))
        yield* appNamespace(app)
        const server = yield* arkServer(yield* kubeconfigOf(1), namespace)
        const before = yield* Clock.currentTimeMillis
        // Daily, twelve hours from now: only the creation-time backup can appear during this test.
        const hour = (DateTime.getPartUtc(DateTime.unsafeMake(before), "hours") + 12) % 24
        yield* kube.create(arkGvr.schedules, {
          apiVersion,
          kind: "Schedule",
          metadata: { name: "nightly", namespace },
          spec: { schedule: `0 ${hour} * * *`, template: { includedNamespaces: [app], ttl: "1h" } }
        })
        const first = yield* waitFor(
          "the schedule's first backup",
          listAll(arkGvr.backups, namespace, `${scheduleNameLabel}=nightly`).pipe(
            Effect.map((items) => Option.fromNullable(items[0]))
          ),
          "120 seconds"
        ).pipe(Effect.tapError(() => Effect.sync(() => console.error(server.output()))))
        const after = yield* Clock.currentTimeMillis
        const name = first.metadata.name ?? ""
        assert.match(name, /^nightly-\d{14}$/)
        // The name is the UTC time it was created, in whole seconds: between the clock read before
        // the Schedule was created and the one after its backup appeared, both inclusive.
        const stamp = name.slice("nightly-".length)
        const created = Date.UTC(
          +stamp.slice(0, 4),
          +stamp.slice(4, 6) - 1,
          +stamp.slice(6, 8),
          +stamp.slice(8, 10),
          +stamp.slice(10, 12),
          +stamp.slice(12, 14)
        )
        const wholeSeconds = (millis: number) => Math.floor(millis / 1000) * 1000
        assert.isAtLeast(created, wholeSeconds(before), name)
        assert.isAtMost(created, wholeSeconds(after), name)
        assert.deepInclude(first.metadata.labels ?? {}, { [scheduleNameLabel]: "nightly", "ark-schedule": "nightly" })
        const done = yield* waitForObject(arkGvr.backups, name, namespace, "finished", finished)
        assert.strictEqual(statusOf(done)["phase"], "Completed", JSON.stringify(statusOf(done)))
        const schedule = yield* waitForObject(
          arkGvr.schedules,
          "nightly",
          namespace,
          "Enabled with lastBackup",
          (s) => statusOf(s)["phase"] === "Enabled" && typeof statusOf(s)["lastBackup"] === "string"
        )
        assert.isString(statusOf(schedule)["lastBackup"])
        assert.strictEqual((yield* listAll(arkGvr.backups, namespace, `${scheduleNameLabel}=nightly`)).length, 1)
      }).pipe(Effect.scoped, Effect.provide(liveKube())),
    300_000
  )

  it.live(
    "a backup past its TTL is removed from the API and MinIO, with its moto snapshot and its restores",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const namespace = `ark-it-ttl-srv-${run}`
        const app = `ark-it-ttl-app-${run}`
        const s3 = yield* sharedMinio(`ark-it-ttl-${run}`)
        yield* serverNamespace(namespace, s3)
        const ec2Config = yield* Effect.all({
          url: Config.string("ARK_TEST_EC2_URL"),
          region: Config.string("AWS_REGION")
        }).pipe(Effect.orDie)
        yield* kube.create(arkGvr.snapshotLocations, {
          apiVersion,
          kind: "VolumeSnapshotLocation",
          metadata: { name: "aws", namespace },
          spec: { provider: "aws", config: { region: ec2Config.region, ec2Url: ec2Config.url } }
        })
        const ec2 = yield* Effect.acquireRelease(
          Effect.sync(() => new EC2Client({ endpoint: ec2Config.url, region: ec2Config.region })),
          (client) => Effect.sync(() => client.destroy())
        )
        const volumeId = (yield* Effect.promise(() =>
          ec2.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 1, VolumeType: "gp3" }))
        )).VolumeId ?? ""
        yield* Effect.addFinalizer(() =>
          Effect.promise(() =>
            ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId })).catch(() => undefined)
          )
        )
        const pvName = `ark-it-ttl-${run}`
        yield* Effect.addFinalizer(() => kube.delete(gvr.persistentVolumes, pvName).pipe(Effect.ignore))
        yield* Effect.addFinalizer(() => kube.delete(gvr.namespaces, app).pipe(Effect.ignore))
        yield* boundClaim(app, pvName, "data", {
          awsElasticBlockStore: { volumeID: `aws://us-east-1a/${volumeId}`, fsType: "ext4" }
        })
        const snapshots = Effect.promise(() =>
          ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: "volume-id", Values: [volumeId] }] }))
        ).pipe(Effect.map((out) => out.Snapshots ?? []))

        const server = yield* arkServer(yield* kubeconfigOf(1), namespace)
        // A TTL no slow machine can outlast while the test restores the backup: it is run out by
        // hand below, once the restore is done, rather than raced.
        const short = yield* backUp("short", namespace, { includedNamespaces: [app], ttl: "1h" }, server.output)
        // A backup without a TTL in reach stays, with its files.
        yield* backUp(
          "keeper",
          namespace,
          { includedNamespaces: [app], ttl: "24h", snapshotVolumes: false },
          server.output
        )
        assert.strictEqual((yield* snapshots).length, 1)
        assert.include(yield* keysUnder(s3, "backups/short/"), "backups/short/ark-backup.json")

        yield* kube.create(arkGvr.restores, {
          apiVersion,
          kind: "Restore",
          metadata: { name: "short-restore", namespace },
          spec: {
            backupName: "short",
            namespaceMapping: { [app]: `${app}-copy` },
            restorePVs: false,
            includedResources: ["configmaps"]
          }
        })
        yield* Effect.addFinalizer(() => kube.delete(gvr.namespaces, `${app}-copy`).pipe(Effect.ignore))
        const restored = yield* waitForObject(arkGvr.restores, "short-restore", namespace, "finished", finished)
        assert.include(
          ["Completed", "PartiallyFailed"],
          statusOf(restored)["phase"],
          JSON.stringify(statusOf(restored))
        )
        assert.isNotEmpty(yield* keysUnder(s3, "restores/short-restore/"))

        // The TTL set the expiration, an hour after completion; moving it to the completion time is
        // what the hour passing would do. GC runs every 2s.
        const { completionTimestamp, expiration } = statusOf(short)
        assert.strictEqual(Date.parse(String(expiration)) - Date.parse(String(completionTimestamp)), 3_600_000)
        yield* kube.patchStatus(
          arkGvr.backups,
          "short",
          { type: "merge", body: { status: { expiration: completionTimestamp } } },
          namespace
        )

        // Expiry: everything of "short" goes, "keeper" stays.
        yield* waitForGone(arkGvr.backups, "short", namespace).pipe(
          Effect.tapError(() => Effect.sync(() => console.error(server.output())))
        )
        yield* waitForGone(arkGvr.restores, "short-restore", namespace)
        assert.deepStrictEqual(yield* keysUnder(s3, "backups/short/"), [])
        assert.deepStrictEqual(yield* keysUnder(s3, "restores/short-restore/"), [])
        yield* waitFor(
          "the moto snapshot deleted",
          snapshots.pipe(Effect.map((list) => (list.length === 0 ? Option.some(true) : Option.none()))),
          "60 seconds"
        )
        const keeper = yield* kube.get(arkGvr.backups, "keeper", namespace)
        assert.strictEqual(statusOf(keeper)["phase"], "Completed")
        assert.include(yield* keysUnder(s3, "backups/keeper/"), "backups/keeper/ark-backup.json")
        const requests = yield* listAll(arkGvr.deleteBackupRequests, namespace)
        assert.isTrue(requests.some((request) => (request["spec"] as { backupName?: string }).backupName === "short"))
      }).pipe(Effect.scoped, Effect.provide(liveKube())),
    300_000
  )

  it.live(
    "migration: cluster 1 backs up to MinIO, cluster 2 on the same location sees the backup and restores it",
    () =>
      Effect.gen(function*() {
        const namespace = `ark-it-mig-srv-${run}`
        const app = `ark-it-mig-app-${run}`
        const s3 = yield* sharedMinio(`ark-it-mig-${run}`)
        const one = yield* Layer.build(liveKube(1))
        const two = yield* Layer.build(liveKube(2))

        // Cluster 1: the app, a server, a backup.
        const source = yield* Effect.gen(function*() {
          yield* serverNamespace(namespace, s3)
          yield* appNamespace(app)
          const server = yield* arkServer(yield* kubeconfigOf(1), namespace)
          return yield* backUp("move", namespace, { includedNamespaces: [app], ttl: "24h" }, server.output)
        }).pipe(Effect.provide(one))

        // Cluster 2: restore-only, the same location, no Backup resource until sync imports it.
        yield* Effect.gen(function*() {
          const kube = yield* KubeClient
          yield* serverNamespace(namespace, s3)
          const server = yield* arkServer(yield* kubeconfigOf(2), namespace, ["--restore-only"])
          const imported = yield* waitForImport("move", namespace, server)
          assert.strictEqual(statusOf(imported)["resourceVersion"], statusOf(source)["resourceVersion"])
          // The stored spec, with the defaults the source server applied when it decoded it.
          assert.deepInclude(imported["spec"] as object, source["spec"] as object)
          yield* Effect.addFinalizer(() => kube.delete(gvr.namespaces, app).pipe(Effect.ignore))
          yield* kube.create(arkGvr.restores, {
            apiVersion,
            kind: "Restore",
            metadata: { name: "arrive", namespace },
            spec: { backupName: "move" }
          })
          const restored = yield* waitForObject(arkGvr.restores, "arrive", namespace, "finished", finished).pipe(
            Effect.tapError(() => Effect.sync(() => console.error(server.output())))
          )
          assert.strictEqual(statusOf(restored)["phase"], "Completed", JSON.stringify(statusOf(restored)))
          for (let i = 0; i < 3; i++) {
            const config = yield* kube.get(gvr.configMaps, `settings-${i}`, app)
            assert.deepStrictEqual(config["data"], { i: String(i) })
            assert.deepInclude(config.metadata.labels ?? {}, {
              "ark.heptio.com/backup-name": "move",
              "ark.heptio.com/restore-name": "arrive"
            })
          }
          yield* kube.get(gvr.deployments, "web", app)
        }).pipe(Effect.provide(two))
      }).pipe(Effect.scoped),
    300_000
  )

  it.live(
    "with MinIO stopped sync deletes nothing; when it returns, sync and backups resume",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const namespace = `ark-it-outage-srv-${run}`
        const app = `ark-it-outage-app-${run}`
        const minio = yield* privateMinio(`ark-it-outage-${run}`)
        yield* serverNamespace(namespace, minio.target)
        yield* appNamespace(app)
        const server = yield* arkServer(yield* kubeconfigOf(1), namespace)
        yield* backUp("before", namespace, { includedNamespaces: [app], ttl: "24h" }, server.output)
        yield* waitForObject(
          arkGvr.locations,
          "default",
          namespace,
          "synced",
          (l) => typeof statusOf(l)["lastSyncedTime"] === "string"
        )

        yield* minio.stop
        const stoppedAt = server.output().length
        // Sync has met the outage at least twice (each pass logs its failure), and the location is Unavailable.
        yield* waitForObject(
          arkGvr.locations,
          "default",
          namespace,
          "Unavailable",
          (l) => statusOf(l)["phase"] === "Unavailable"
        )
        yield* waitFor(
          "two failed sync passes",
          Effect.sync(() => {
            const failures = server.output().slice(stoppedAt).split("\n").filter((line) =>
              line.includes("cannot sync backup storage location") && /"logLevel":"(WARN|ERROR)"/.test(line)
            )
            return failures.length >= 2 ? Option.some(failures.length) : Option.none()
          }),
          "120 seconds"
        ).pipe(Effect.tapError(() => Effect.sync(() => console.error(server.output()))))
        const during = yield* kube.get(arkGvr.backups, "before", namespace)
        assert.strictEqual(statusOf(during)["phase"], "Completed")

        yield* minio.start
        yield* waitForObject(
          arkGvr.locations,
          "default",
          namespace,
          "Available again",
          (l) => statusOf(l)["phase"] === "Available"
        )
        // Sync works again: a resource removed from the cluster (its files kept) comes back from storage.
        yield* kube.delete(arkGvr.backups, "before", namespace)
        yield* waitForGone(arkGvr.backups, "before", namespace)
        const reimported = yield* waitForObject(
          arkGvr.backups,
          "before",
          namespace,
          "re-imported",
          (b) => statusOf(b)["phase"] === "Completed"
        )
        assert.strictEqual(reimported.metadata.name, "before")
        // And backups run again.
        yield* backUp("after", namespace, { includedNamespaces: [app], ttl: "24h" }, server.output)
        assert.include(yield* keysUnder(minio.target, "backups/after/"), "backups/after/ark-backup.json")
      }).pipe(Effect.scoped, Effect.provide(liveKube())),
    300_000
  )
})
