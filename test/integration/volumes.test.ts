// Issue 6 end to end on real components: runBackup and executeRestore over the live KubeClient,
// MinIO, the live BlockStoreProvider (EBS on moto, Local on this machine) and the exec HookRunner
// through the API server's pods/exec (kwok runs the command here, so hooks write into hostPaths).
import { randomUUID } from "node:crypto"
import * as fs from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

import {
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client
} from "@aws-sdk/client-ec2"
import { assert, describe, it } from "@effect/vitest"
import { Config, Effect, Option } from "effect"

import { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { Backup } from "../../src/api/backup.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { runBackup } from "../../src/backup/run.ts"
import { executeRestore } from "../../src/restore/run.ts"
import { readSnapshotRecords } from "../../src/volumes/records.ts"
import { DeadlineExceeded, waitFor } from "../support/wait.ts"
import { gvr, readText } from "./backupFixtures.ts"
import {
  backupIn,
  boundClaim,
  createSnapshotLocation,
  deleteAndWait,
  digests,
  fileExists,
  restoreIn,
  serverNamespace,
  tempDir,
  volumeDeps,
  volumeLayer,
  waitClaimBound
} from "./volumeFixtures.ts"

const run = randomUUID().slice(0, 8)
const layer = (test: string) => volumeLayer(`ark-it-volumes-${run}/${test}`)

const tagsOf = (tags: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> | undefined) =>
  Object.fromEntries((tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]))

const status = (backup: Backup) => backup.status ?? {}

const ec2Client = Effect.gen(function*() {
  const config = yield* Effect.all({
    ec2Url: Config.string("ARK_TEST_EC2_URL"),
    region: Config.string("AWS_REGION"),
    accessKeyId: Config.string("AWS_ACCESS_KEY_ID"),
    secretAccessKey: Config.string("AWS_SECRET_ACCESS_KEY")
  }).pipe(Effect.orDieWith((error) => new Error(`the moto tests need the test environment's EC2 endpoint: ${error}`)))
  const client = yield* Effect.acquireRelease(
    Effect.sync(() =>
      new EC2Client({
        region: config.region,
        endpoint: config.ec2Url,
        credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }
      })
    ),
    (client) => Effect.sync(() => client.destroy())
  )
  return { client, ...config }
})

/** Cluster-scoped and namespaced objects a test made, removed afterwards even after a failure. */
const cleanupLater = (namespaces: ReadonlyArray<string>, volumes: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        for (const name of namespaces) yield* kube.delete(gvr.namespaces, name).pipe(Effect.ignore)
        for (const name of volumes) yield* kube.delete(gvr.persistentVolumes, name).pipe(Effect.ignore)
      })
    )
  })

const pvSpec = (pv: KubeObject) => pv["spec"] as Record<string, Record<string, unknown> | undefined>

describe("volumes end to end", () => {
  it.live(
    "moto: a PV's EBS volume is snapshotted with tags, restored on a new volume; snapshotVolumes false takes none",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const { client, region, ec2Url } = yield* ec2Client
        const serverNs = yield* serverNamespace(`ark-it-vol-srv-ebs-${run}`)
        const namespace = `ark-it-vol-ebs-${run}`
        const pvName = `ark-it-vol-ebs-${run}`
        yield* cleanupLater([namespace], [pvName])
        yield* createSnapshotLocation(serverNs, "aws", "aws", { region, ec2Url })

        const volumeId = (yield* Effect.promise(() =>
          client.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 10, VolumeType: "gp3" }))
        )).VolumeId ?? ""
        assert.match(volumeId, /^vol-/)
        const made: Array<string> = []
        yield* Effect.addFinalizer(() =>
          Effect.promise(async () => {
            for (const id of made) {
              await client.send(new DeleteSnapshotCommand({ SnapshotId: id })).catch(() =>
                undefined
              )
            }
            await client.send(new DeleteVolumeCommand({ VolumeId: volumeId })).catch(() => undefined)
          })
        )
        yield* boundClaim(namespace, pvName, "data", {
          awsElasticBlockStore: { volumeID: `aws://us-east-1a/${volumeId}`, fsType: "ext4" }
        })
        const snapshotsOfVolume = Effect.promise(() =>
          client.send(new DescribeSnapshotsCommand({ Filters: [{ Name: "volume-id", Values: [volumeId] }] }))
        ).pipe(Effect.map((out) => out.Snapshots ?? []))
        assert.strictEqual((yield* snapshotsOfVolume).length, 0)

        const deps = yield* volumeDeps
        const backupName = `ebs-${run}`
        const backup = yield* runBackup(
          backupIn(serverNs, backupName, { includedNamespaces: [namespace], ttl: "24h" }),
          deps
        )
        assert.strictEqual(status(backup).phase, "Completed", JSON.stringify(status(backup)))
        assert.deepStrictEqual(
          { attempted: status(backup).volumeSnapshotsAttempted, completed: status(backup).volumeSnapshotsCompleted },
          { attempted: 1, completed: 1 }
        )

        const snapshots = yield* snapshotsOfVolume
        made.push(...snapshots.map((snapshot) => snapshot.SnapshotId ?? ""))
        assert.strictEqual(snapshots.length, 1)
        const snapshot = snapshots[0]!
        assert.strictEqual(snapshot.State, "completed")
        assert.deepStrictEqual(tagsOf(snapshot.Tags), {
          "ark.heptio.com/backup": backupName,
          "ark.heptio.com/pv": pvName
        })

        const records = yield* readSnapshotRecords(backupName)
        assert.deepStrictEqual(
          records.map((record) => ({ ...record })),
          [{
            pvName,
            providerVolumeId: volumeId,
            availabilityZone: "us-east-1a",
            volumeType: "gp3",
            ...(records[0]?.iops === undefined ? {} : { iops: records[0].iops }),
            snapshotId: snapshot.SnapshotId ?? "",
            location: "aws",
            phase: "Completed"
          }]
        )

        // Objects only: no snapshot, no records.
        const objectsOnly = yield* runBackup(
          backupIn(serverNs, `ebs-nosnap-${run}`, {
            includedNamespaces: [namespace],
            ttl: "24h",
            snapshotVolumes: false
          }),
          deps
        )
        assert.strictEqual(status(objectsOnly).phase, "Completed", JSON.stringify(status(objectsOnly)))
        assert.strictEqual(status(objectsOnly).volumeSnapshotsAttempted, undefined)
        assert.strictEqual((yield* snapshotsOfVolume).length, 1)
        assert.deepStrictEqual(yield* readSnapshotRecords(`ebs-nosnap-${run}`), [])

        // Disaster: the namespace and the PV are gone.
        yield* deleteAndWait(gvr.namespaces, namespace)
        yield* deleteAndWait(gvr.persistentVolumes, pvName)

        const blockStores = yield* BlockStoreProvider
        const restored = yield* executeRestore(restoreIn(serverNs, `ebs-${run}`, backupName), Option.some(backup), {
          volumes: { blockStores }
        })
        assert.strictEqual(
          restored.restore.status?.phase,
          "Completed",
          `${JSON.stringify(restored.restore.status)} ${JSON.stringify(restored.counts)}`
        )

        const pv = yield* kube.get(gvr.persistentVolumes, pvName)
        const newVolumeId = String(pvSpec(pv)["awsElasticBlockStore"]?.["volumeID"] ?? "").replace(
          "aws://us-east-1a/",
          ""
        )
        assert.match(newVolumeId, /^vol-/)
        assert.notStrictEqual(newVolumeId, volumeId)
        yield* Effect.addFinalizer(() =>
          Effect.promise(() => client.send(new DeleteVolumeCommand({ VolumeId: newVolumeId })).catch(() => undefined))
        )
        const described =
          (yield* Effect.promise(() => client.send(new DescribeVolumesCommand({ VolumeIds: [newVolumeId] })))).Volumes
            ?.[0]
        assert.deepStrictEqual(
          { snapshot: described?.SnapshotId, az: described?.AvailabilityZone, type: described?.VolumeType },
          { snapshot: snapshot.SnapshotId, az: "us-east-1a", type: "gp3" }
        )
        // The restored claim binds to the restored PV.
        yield* waitClaimBound(namespace, "data", pvName)
      }).pipe(Effect.scoped, Effect.provide(layer("ebs"))),
    400_000
  )

  it.live(
    "local: hostPath files come back byte-identical after backup, delete and restore",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const serverNs = yield* serverNamespace(`ark-it-vol-srv-local-${run}`)
        const namespace = `ark-it-vol-local-${run}`
        const pvName = `ark-it-vol-local-${run}`
        yield* cleanupLater([namespace], [pvName])
        const work = yield* tempDir(join(tmpdir(), "ark-it-volumes-"))
        const data = join(work, "node", "pv-data")
        const snapshotStore = join(work, "snapshot-store")
        yield* Effect.promise(async () => {
          await fs.mkdir(join(data, "deep", "er"), { recursive: true })
          await fs.writeFile(join(data, "README.txt"), "hello volumes\n")
          await fs.writeFile(
            join(data, "blob.bin"),
            Buffer.from(Array.from({ length: 300 * 1024 }, (_, i) => (i * 2654435761) >>> 24))
          )
          await fs.writeFile(join(data, "deep", "er", "nested.dat"), Buffer.from([0, 255, 1, 254, 0, 0, 10, 13]))
        })
        const before = yield* digests(data)
        assert.strictEqual(Object.keys(before).length, 3)

        yield* createSnapshotLocation(serverNs, "local", "local", { path: snapshotStore })
        yield* boundClaim(namespace, pvName, "data", { hostPath: { path: data, type: "Directory" } })

        const deps = yield* volumeDeps
        const backupName = `local-${run}`
        const backup = yield* runBackup(
          backupIn(serverNs, backupName, { includedNamespaces: [namespace], ttl: "24h" }),
          deps
        )
        assert.strictEqual(status(backup).phase, "Completed", JSON.stringify(status(backup)))
        assert.deepStrictEqual(
          { attempted: status(backup).volumeSnapshotsAttempted, completed: status(backup).volumeSnapshotsCompleted },
          { attempted: 1, completed: 1 }
        )

        // Disaster: namespace, PV and the data are gone.
        yield* deleteAndWait(gvr.namespaces, namespace)
        yield* deleteAndWait(gvr.persistentVolumes, pvName)
        yield* Effect.promise(() => fs.rm(data, { recursive: true }))

        const blockStores = yield* BlockStoreProvider
        const restored = yield* executeRestore(restoreIn(serverNs, `local-${run}`, backupName), Option.some(backup), {
          volumes: { blockStores }
        })
        assert.strictEqual(
          restored.restore.status?.phase,
          "Completed",
          `${JSON.stringify(restored.restore.status)} ${JSON.stringify(restored.counts)}`
        )

        const pv = yield* kube.get(gvr.persistentVolumes, pvName)
        const restoredDir = String(pvSpec(pv)["hostPath"]?.["path"] ?? "")
        assert.notStrictEqual(restoredDir, data)
        assert.isTrue(restoredDir.startsWith(join(snapshotStore, "volumes")), restoredDir)
        assert.deepStrictEqual(yield* digests(restoredDir), before)
        yield* waitClaimBound(namespace, "data", pvName)
      }).pipe(Effect.scoped, Effect.provide(layer("local"))),
    400_000
  )

  it.live(
    "hooks through the real exec path: pre, snapshot, post in order; Fail, Continue, a missing container, a timeout",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const serverNs = yield* serverNamespace(`ark-it-vol-srv-hooks-${run}`)
        const namespace = `ark-it-vol-hooks-${run}`
        const pvName = `ark-it-vol-hooks-${run}`
        yield* cleanupLater([namespace], [pvName])
        const work = yield* tempDir(join(tmpdir(), "ark-it-hooks-"))
        const data = join(work, "pv-data")
        const snapshotStore = join(work, "snapshot-store")
        yield* Effect.promise(() => fs.mkdir(data, { recursive: true }))
        yield* createSnapshotLocation(serverNs, "local", "local", { path: snapshotStore })
        yield* boundClaim(namespace, pvName, "data", { hostPath: { path: data, type: "Directory" } })

        const pre = "pre.hook.backup.ark.heptio.com"
        const post = "post.hook.backup.ark.heptio.com"
        const preMarker = join(data, "pre-marker")
        const postMarker = join(data, "post-marker")
        yield* kube.create(gvr.pods, {
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            name: "db",
            namespace,
            annotations: {
              [`${pre}/command`]: JSON.stringify(["sh", "-c", `echo pre > ${preMarker} && echo froze-the-db`]),
              [`${post}/command`]: JSON.stringify(["sh", "-c", `echo post > ${postMarker} && echo thawed-the-db`])
            }
          },
          spec: {
            containers: [{
              name: "app",
              image: "busybox",
              command: ["sleep", "3600"],
              volumeMounts: [{ name: "data", mountPath: "/data" }]
            }],
            volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }]
          }
        })
        yield* waitFor(
          `pod ${namespace}/db Running`,
          kube.get(gvr.pods, "db", namespace).pipe(Effect.map((pod) =>
            (pod["status"] as { phase?: string } | undefined)?.phase === "Running" ? Option.some(pod) : Option.none()
          )),
          "120 seconds"
        )
        const deps = yield* volumeDeps
        const backUp = (name: string) =>
          runBackup(backupIn(serverNs, `${name}-${run}`, { includedNamespaces: [namespace], ttl: "24h" }), deps)
        /** Replaces the pod's hook annotations (null removes one). */
        const annotate = (annotations: Record<string, string | null>) =>
          kube.patch(gvr.pods, "db", { type: "merge", body: { metadata: { annotations } } }, namespace)
        const noHooks = {
          [`${pre}/command`]: null,
          [`${post}/command`]: null,
          [`${pre}/on-error`]: null,
          [`${pre}/container`]: null,
          [`${pre}/timeout`]: null
        }

        // Order: the snapshot holds the pre hook's marker but not the post hook's.
        const ordered = yield* backUp("hooks-order")
        assert.strictEqual(status(ordered).phase, "Completed", JSON.stringify(status(ordered)))
        assert.deepStrictEqual([yield* fileExists(preMarker), yield* fileExists(postMarker)], [true, true])
        const records = yield* readSnapshotRecords(`hooks-order-${run}`)
        assert.strictEqual(records.length, 1)
        const snapshotDir = join(snapshotStore, "snapshots", records[0]?.snapshotId ?? "")
        assert.deepStrictEqual(Object.keys(yield* digests(snapshotDir)), ["pre-marker"])
        const log = yield* readText(backupKeys(`hooks-order-${run}`).logs, true)
        assert.include(log, "froze-the-db")
        assert.include(log, "thawed-the-db")
        assert.isBelow(log.indexOf("froze-the-db"), log.indexOf(`snapshot ${records[0]?.snapshotId ?? "?"}`))
        assert.isBelow(log.indexOf(`snapshot ${records[0]?.snapshotId ?? "?"}`), log.indexOf("thawed-the-db"))

        // A failing pre hook with onError Fail fails the backup and names the hook and pod.
        yield* annotate({
          ...noHooks,
          [`${pre}/command`]: JSON.stringify(["sh", "-c", "exit 1"]),
          [`${pre}/on-error`]: "Fail"
        })
        const failed = yield* backUp("hooks-fail")
        assert.strictEqual(status(failed).phase, "Failed", JSON.stringify(status(failed)))
        assert.include(status(failed).failureReason ?? "", `pre hook "${pre}"`)
        assert.include(status(failed).failureReason ?? "", `pod ${namespace}/db`)
        assert.include(status(failed).failureReason ?? "", "exit code 1")

        // With onError Continue the backup goes on and warns.
        yield* annotate({ [`${pre}/on-error`]: "Continue" })
        const continued = yield* backUp("hooks-continue")
        assert.include(["Completed", "PartiallyFailed"], status(continued).phase, JSON.stringify(status(continued)))
        assert.isAtLeast(status(continued).warnings ?? 0, 1)
        assert.strictEqual(status(continued).volumeSnapshotsCompleted, 1)
        assert.include(
          yield* readText(backupKeys(`hooks-continue-${run}`).logs, true),
          "exit code 1 (onError Continue)"
        )

        // A container the pod does not have is an error that names it.
        yield* annotate({ ...noHooks, [`${pre}/command`]: JSON.stringify(["true"]), [`${pre}/container`]: "nope" })
        const missing = yield* backUp("hooks-nope")
        assert.strictEqual(status(missing).phase, "Failed", JSON.stringify(status(missing)))
        assert.include(status(missing).failureReason ?? "", `container "nope" not found in pod ${namespace}/db`)

        // A hook that hangs is cut off at its timeout: it sleeps four minutes, so a backup that ends
        // within the deadline did not wait for it.
        yield* annotate({
          ...noHooks,
          [`${pre}/command`]: JSON.stringify(["sleep", "240"]),
          [`${pre}/timeout`]: "2s",
          [`${pre}/on-error`]: "Continue"
        })
        const cutOff = (name: string) =>
          backUp(name).pipe(
            Effect.timeoutFail({
              duration: "120 seconds",
              onTimeout: () =>
                new DeadlineExceeded({ what: `backup ${name} to cut its 240s hook off at 2s` })
            })
          )
        const hung = yield* cutOff("hooks-hang")
        assert.include(["Completed", "PartiallyFailed"], status(hung).phase, JSON.stringify(status(hung)))
        assert.isAtLeast(status(hung).warnings ?? 0, 1)
        assert.include(yield* readText(backupKeys(`hooks-hang-${run}`).logs, true), "timed out after 2s")
        yield* annotate({ [`${pre}/on-error`]: "Fail" })
        const hungFail = yield* cutOff("hooks-hang-fail")
        assert.strictEqual(status(hungFail).phase, "Failed", JSON.stringify(status(hungFail)))
        assert.include(status(hungFail).failureReason ?? "", "timed out after 2s")
      }).pipe(Effect.scoped, Effect.provide(layer("hooks"))),
    600_000
  )
})
