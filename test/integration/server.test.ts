// `ark server` as a process against the real kube-apiserver and MinIO: a Backup of a namespace
// is written to the bucket in the documented storage layout and Completed; locations are validated.
import { randomUUID } from "node:crypto"

import { assert, describe, it } from "@effect/vitest"
import { Chunk, Config, Effect, Option, Redacted, Schema, Stream } from "effect"

import * as S3ObjectStore from "../../layers/objectstore/S3.ts"
import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { apiVersion, Backup, group, version } from "../../src/api/index.ts"
import { readArchive } from "../../src/archive/reader.ts"
import { waitFor } from "../support/wait.ts"
import { applyCrds } from "./crdsApply.ts"
import { liveKube } from "./live.ts"
import { arkServer } from "./serverProcess.ts"

const namespaces: GroupVersionResource = { group: "", version: "v1", resource: "namespaces" }
const secrets: GroupVersionResource = { group: "", version: "v1", resource: "secrets" }
const configMaps: GroupVersionResource = { group: "", version: "v1", resource: "configmaps" }
const deployments: GroupVersionResource = { group: "apps", version: "v1", resource: "deployments" }
const backups: GroupVersionResource = { group, version, resource: "backups" }
const locations: GroupVersionResource = { group, version, resource: "backupstoragelocations" }

const run = randomUUID().slice(0, 8)
const serverNamespace = `ark-server-it-${run}`
const appNamespace = `ark-app-it-${run}`
const prefix = `ark-it-server-${run}`

const env = Effect.gen(function*() {
  return {
    kubeconfig: yield* Config.string("KUBECONFIG"),
    s3Url: yield* Config.string("ARK_TEST_S3_URL"),
    bucket: yield* Config.string("ARK_TEST_S3_BUCKET"),
    accessKeyId: yield* Config.string("AWS_ACCESS_KEY_ID"),
    secretAccessKey: yield* Config.redacted("AWS_SECRET_ACCESS_KEY"),
    region: yield* Config.string("AWS_REGION")
  }
}).pipe(Effect.orDieWith((error) => new Error(`the server integration test needs the test environment: ${error}`)))

const namespace = (name: string): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } })

const seedApp = Effect.gen(function*() {
  const kube = yield* KubeClient
  yield* kube.create(namespaces, namespace(appNamespace))
  for (let i = 0; i < 3; i++) {
    yield* kube.create(configMaps, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `settings-${i}`, namespace: appNamespace },
      data: { i: String(i) }
    })
  }
  for (let i = 0; i < 2; i++) {
    yield* kube.create(secrets, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `token-${i}`, namespace: appNamespace },
      stringData: { token: `t-${i}` }
    })
  }
  yield* kube.create(deployments, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: appNamespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } }
    }
  })
})

const statusOf = (object: KubeObject) => (object["status"] as Record<string, unknown> | undefined) ?? {}

const waitForStatus = (
  resource: GroupVersionResource,
  name: string,
  what: string,
  done: (status: Record<string, unknown>) => boolean
) =>
  Effect.flatMap(KubeClient, (kube) =>
    waitFor(
      `${resource.resource}/${name} ${what}`,
      kube.get(resource, name, serverNamespace).pipe(
        Effect.map((object) => Option.some(object).pipe(Option.filter((o) => done(statusOf(o)))))
      ),
      "120 seconds"
    ))

describe("ark server on a real cluster with MinIO", () => {
  it.live(
    "backs a namespace up to MinIO, validates locations, and stops cleanly on SIGTERM",
    () =>
      Effect.gen(function*() {
        const config = yield* env
        const kube = yield* KubeClient
        yield* applyCrds
        yield* kube.create(namespaces, namespace(serverNamespace))
        yield* seedApp
        yield* kube.create(secrets, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "minio-credentials", namespace: serverNamespace },
          stringData: {
            cloud: `[default]\naws_access_key_id = ${config.accessKeyId}\naws_secret_access_key = ${
              Redacted.value(config.secretAccessKey)
            }\n`
          }
        })
        const s3Config = { region: config.region, s3Url: config.s3Url, s3ForcePathStyle: "true" }
        yield* kube.create(locations, {
          apiVersion,
          kind: "BackupStorageLocation",
          metadata: { name: "default", namespace: serverNamespace },
          spec: {
            provider: "aws",
            objectStorage: { bucket: config.bucket, prefix },
            config: s3Config,
            credential: { name: "minio-credentials", key: "cloud" }
          }
        })
        yield* kube.create(locations, {
          apiVersion,
          kind: "BackupStorageLocation",
          metadata: { name: "unreachable", namespace: serverNamespace },
          spec: {
            provider: "aws",
            objectStorage: { bucket: config.bucket, prefix },
            config: { ...s3Config, s3Url: "http://127.0.0.1:1" },
            credential: { name: "minio-credentials", key: "cloud" }
          }
        })

        const server = yield* arkServer(config.kubeconfig, serverNamespace)
        yield* kube.create(backups, {
          apiVersion,
          kind: "Backup",
          metadata: { name: "app", namespace: serverNamespace },
          spec: { includedNamespaces: [appNamespace], ttl: "24h" }
        })
        const finished = yield* waitForStatus(
          backups,
          "app",
          "finished",
          (status) => ["Completed", "PartiallyFailed", "Failed", "FailedValidation"].includes(String(status["phase"]))
        ).pipe(Effect.tapError(() => Effect.sync(() => console.error(server.output()))))
        const status = statusOf(finished)
        assert.strictEqual(status["phase"], "Completed", JSON.stringify(status))
        assert.strictEqual(status["consistency"], "Exact")
        assert.match(String(status["resourceVersion"]), /^[0-9]+$/)
        assert.isAtLeast((status["progress"] as { itemsBackedUp: number }).itemsBackedUp, 6)

        // The bucket holds the documented storage layout, committed by ark-backup.json.
        const store = yield* S3ObjectStore.make({
          bucket: config.bucket,
          prefix,
          region: config.region,
          s3Url: config.s3Url,
          s3ForcePathStyle: true,
          credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }
        })
        const listing = yield* store.list("backups/app/")
        const keys = listing.objects.map((object) => object.key)
        for (
          const file of ["app.tar.gz", "app-logs.gz", "app-resource-list.json.gz", "app-results.gz", "ark-backup.json"]
        ) {
          assert.include(keys, `backups/app/${file}`)
        }
        const committed = yield* store.get("backups/app/ark-backup.json").pipe(
          Stream.decodeText(),
          Stream.mkString,
          Effect.flatMap((text) => Schema.decodeUnknown(Schema.parseJson(Backup))(text))
        )
        assert.strictEqual(committed.metadata.name, "app")
        const paths = Chunk.toReadonlyArray(
          yield* readArchive(store.get("backups/app/app.tar.gz")).pipe(
            Stream.map((entry) => entry.path),
            Stream.runCollect
          )
        )
        for (let i = 0; i < 3; i++) {
          assert.include(paths, `resources/configmaps/namespaces/${appNamespace}/settings-${i}.json`)
        }
        for (let i = 0; i < 2; i++) {
          assert.include(paths, `resources/secrets/namespaces/${appNamespace}/token-${i}.json`)
        }
        assert.include(paths, `resources/deployments.apps/namespaces/${appNamespace}/web.json`)

        // Locations: MinIO is reachable through the Secret's credentials; port 1 is not.
        const available = yield* waitForStatus(locations, "default", "Available", (s) => s["phase"] === "Available")
        assert.isString(statusOf(available)["lastValidationTime"])
        const unreachable = yield* waitForStatus(locations, "unreachable", "Unavailable", (s) =>
          s["phase"] === "Unavailable")
        assert.include(String(statusOf(unreachable)["message"]), `bucket ${config.bucket} prefix ${prefix}:`)

        // The credentials never reach the logs.
        assert.notInclude(server.output(), Redacted.value(config.secretAccessKey))
        // SIGTERM interrupts the controllers and the process exits 0.
        server.kill("SIGTERM")
        const code = yield* Effect.promise(() =>
          server.exited
        )
        assert.strictEqual(code, 0, server.output())
        const lines = server.output().split("\n").filter((line) =>
          line.startsWith("{")
        )
        assert.isTrue(lines.some((line) => (JSON.parse(line) as { message?: unknown }).message === "backup started"))

        yield* store.list("").pipe(
          Effect.flatMap((all) => Effect.forEach(all.objects, (object) => store.delete(object.key), { discard: true }))
        )
        yield* kube.delete(namespaces, appNamespace)
        yield* kube.delete(namespaces, serverNamespace)
      }).pipe(Effect.scoped, Effect.provide(liveKube())),
    300_000
  )
})
