// Immutability on the real cluster and MinIO's Object Lock bucket: a backup's files carry the
// retention its location asks for (read back with GetObjectRetention), a deletion before it passes
// is refused and leaves every file, and GC removes the backup once it has expired. A location on
// the bucket without Object Lock that asks for it is Unavailable, with the reason.
import { randomUUID } from "node:crypto"

import { GetObjectRetentionCommand, ListObjectVersionsCommand, S3Client } from "@aws-sdk/client-s3"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"

import { joinKey } from "../../layers/objectstore/listing.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { apiVersion } from "../../src/api/index.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { newDeleteBackupRequest } from "../../src/deletion/requests.ts"
import { arkInCluster } from "../support/arkProcess.ts"
import { waitFor } from "../support/wait.ts"
import { liveKube } from "./live.ts"
import type { S3Target } from "./serverProcess.ts"
import {
  arkGvr,
  arkServer,
  keysUnder,
  kubeconfigOf,
  lockedMinio,
  serverNamespace,
  sharedMinio,
  statusOf,
  waitForGone,
  waitForObject
} from "./serverProcess.ts"

const run = randomUUID().slice(0, 8)
const configMaps = { group: "", version: "v1", resource: "configmaps" }
const namespaces = { group: "", version: "v1", resource: "namespaces" }
/** Long enough to back up and try a deletion on a loaded machine, short enough to wait for. */
const ttl = "40s"

/** A location of the server namespace on `s3`, with the credentials Secret `serverNamespace` made. */
const locationOn = (name: string, namespace: string, s3: S3Target, objectLock: string) => ({
  apiVersion,
  kind: "BackupStorageLocation",
  metadata: { name, namespace },
  spec: {
    provider: "aws",
    objectStorage: { bucket: s3.bucket, prefix: s3.prefix, objectLock: { mode: objectLock } },
    config: { region: s3.region, s3Url: s3.url, s3ForcePathStyle: "true" },
    credential: { name: "cloud-credentials", key: "cloud" }
  }
})

/** A plain SDK client on `s3`, for what Ark's own store does not show. */
const withClient = <A>(s3: S3Target, use: (client: S3Client) => Effect.Effect<A>) =>
  Effect.acquireUseRelease(
    Effect.sync(() =>
      new S3Client({
        endpoint: s3.url,
        region: s3.region,
        forcePathStyle: true,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: Redacted.value(s3.secretAccessKey) }
      })
    ),
    use,
    (client) => Effect.sync(() => client.destroy())
  )

/** Every version and delete marker left under `dir`: a versioned bucket keeps what a plain delete hides. */
const versionsUnder = (s3: S3Target, dir: string) =>
  withClient(
    s3,
    (client) =>
      Effect.promise(() =>
        client.send(new ListObjectVersionsCommand({ Bucket: s3.bucket, Prefix: joinKey(s3.prefix, dir) }))
      )
        .pipe(Effect.map((page) => [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => v.Key)))
  )

/** GetObjectRetention of every key, straight from S3: what MinIO enforces, not what Ark recorded. */
const retentionsOf = (s3: S3Target, keys: ReadonlyArray<string>) =>
  withClient(
    s3,
    (client) =>
      Effect.forEach(keys, (key) =>
        Effect.promise(() =>
          client.send(new GetObjectRetentionCommand({ Bucket: s3.bucket, Key: joinKey(s3.prefix, key) }))
        ).pipe(
          Effect.map((output) => ({
            key,
            mode: output.Retention?.Mode,
            until: output.Retention?.RetainUntilDate?.toISOString()
          }))
        ))
  )

describe("backups under S3 Object Lock", () => {
  it.live(
    "files are retained in the location's mode; deleting before expiry is refused and keeps them; GC removes them after",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const kubeconfig = yield* kubeconfigOf(1)
        const namespace = `ark-it-lock-${run}`
        const governance = yield* lockedMinio(`ark-it-lock-${run}/governance`)
        const compliance = yield* lockedMinio(`ark-it-lock-${run}/compliance`)
        const unlocked = yield* sharedMinio(`ark-it-lock-${run}/unlocked`)
        yield* serverNamespace(namespace, governance)
        yield* kube.patch(arkGvr.locations, "default", {
          type: "merge",
          body: { spec: { objectStorage: { objectLock: { mode: "GOVERNANCE" } } } }
        }, namespace)
        yield* kube.create(arkGvr.locations, locationOn("compliance", namespace, compliance, "COMPLIANCE"))
        yield* kube.create(arkGvr.locations, locationOn("unlocked", namespace, unlocked, "GOVERNANCE"))
        const app = `ark-it-lock-app-${run}`
        yield* Effect.acquireRelease(
          kube.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: app } }),
          () => kube.delete(namespaces, app).pipe(Effect.ignore)
        )
        yield* kube.create(configMaps, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "settings", namespace: app },
          data: { mode: "prod" }
        })
        const server = yield* arkServer(kubeconfig, namespace)
        const show = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
          effect.pipe(Effect.tapError(() => Effect.sync(() => console.log(server.output()))))

        // Asking for Object Lock on a bucket without it: Unavailable, saying so.
        const refused = yield* show(waitForObject(
          arkGvr.locations,
          "unlocked",
          namespace,
          "Unavailable",
          (location) => statusOf(location)["phase"] === "Unavailable"
        ))
        assert.include(String(statusOf(refused)["message"]), `bucket ${unlocked.bucket} has it off`)

        const cases = [
          { name: `gov-${run}`, location: "default", s3: governance, mode: "GOVERNANCE" },
          { name: `comp-${run}`, location: "compliance", s3: compliance, mode: "COMPLIANCE" }
        ] as const
        for (const backup of cases) {
          yield* kube.create(arkGvr.backups, {
            apiVersion,
            kind: "Backup",
            metadata: { name: backup.name, namespace },
            spec: { includedNamespaces: [app], storageLocation: backup.location, ttl }
          })
        }
        const stored = new Map<string, ReadonlyArray<string>>()
        for (const backup of cases) {
          const done = yield* show(waitForObject(
            arkGvr.backups,
            backup.name,
            namespace,
            "Completed",
            (object) => statusOf(object)["phase"] === "Completed"
          ))
          const status = statusOf(done)
          const retention = status["retention"] as { mode: string; retainUntil: string }
          assert.strictEqual(retention.mode, backup.mode)
          assert.isAtMost(Date.parse(retention.retainUntil), Date.parse(String(status["expiration"])))

          const keys = yield* keysUnder(backup.s3, backupKeys(backup.name).dir)
          assert.includeMembers(keys, [backupKeys(backup.name).tarball, backupKeys(backup.name).metadata])
          const retentions = yield* retentionsOf(backup.s3, keys)
          for (const file of retentions) {
            assert.deepStrictEqual(
              { key: file.key, mode: file.mode, until: file.until },
              { key: file.key, mode: backup.mode, until: new Date(retention.retainUntil).toISOString() }
            )
          }
          stored.set(backup.name, keys)
        }

        // A DeleteBackupRequest before expiry: Processed with the reason, every file still there.
        const [gov, comp] = cases
        const request = yield* kube.create(arkGvr.deleteBackupRequests, newDeleteBackupRequest(gov.name, namespace))
        const processed = yield* show(waitForObject(
          arkGvr.deleteBackupRequests,
          request.metadata.name ?? "",
          namespace,
          "Processed",
          (object) => statusOf(object)["phase"] === "Processed"
        ))
        const errors = statusOf(processed)["errors"] as ReadonlyArray<string>
        assert.lengthOf(errors, 1)
        assert.include(
          errors[0],
          `backup "${gov.name}" is kept: ${stored.get(gov.name)?.length} of its files are retained until`
        )
        assert.include(errors[0], "mode GOVERNANCE")
        assert.deepStrictEqual(yield* keysUnder(gov.s3, backupKeys(gov.name).dir), stored.get(gov.name))
        assert.strictEqual(statusOf(yield* kube.get(arkGvr.backups, gov.name, namespace))["phase"], "Completed")

        // `ark backup delete` says why at once and submits nothing; the backup still verifies.
        const cli = yield* arkInCluster(namespace, kubeconfig, "backup", "delete", comp.name, "--confirm")
        assert.notStrictEqual(cli.status, 0, cli.stdout)
        assert.include(cli.stderr, `backup "${comp.name}" is retained until`)
        assert.include(cli.stderr, "mode COMPLIANCE")
        assert.deepStrictEqual(yield* keysUnder(comp.s3, backupKeys(comp.name).dir), stored.get(comp.name))
        const verified = yield* arkInCluster(namespace, kubeconfig, "backup", "verify", gov.name)
        assert.strictEqual(verified.status, 0, verified.stdout + verified.stderr)

        // Once they expire, GC deletes both as usual.
        for (const backup of cases) {
          yield* show(waitForGone(arkGvr.backups, backup.name, namespace))
          const left = yield* waitFor(
            `the files of ${backup.name} gone`,
            keysUnder(backup.s3, backupKeys(backup.name).dir).pipe(
              Effect.map((keys) => keys.length === 0 ? Option.some(keys) : Option.none())
            ),
            "60 seconds"
          )
          assert.deepStrictEqual(left, [])
          // Every version went too, not just hidden behind a delete marker.
          assert.deepStrictEqual(yield* versionsUnder(backup.s3, backupKeys(backup.name).dir), [])
        }
      }).pipe(Effect.scoped, Effect.provide(liveKube())),
    600_000
  )
})
