// `ark restore …` as a user runs it, with `ark server` as a child process against the real
// kube-apiserver and MinIO: back up a namespace, delete it, restore it under a new name with
// --wait, and find every object there, labelled with the restore and the backup.
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { fileURLToPath } from "node:url"

import { assert, describe, it } from "@effect/vitest"
import { Config, Effect, Option, Redacted, Stream } from "effect"

import * as S3ObjectStore from "../../layers/objectstore/S3.ts"
import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { apiVersion } from "../../src/api/index.ts"
import { arkRun } from "../support/arkProcess.ts"
import { waitFor } from "../support/wait.ts"
import { applyCrds, ensureNamespace, namespaceGvr } from "./crdsApply.ts"
import { liveKube } from "./live.ts"

const mainTs = fileURLToPath(new URL("../../bin/ark.mjs", import.meta.url))
const secrets: GroupVersionResource = { group: "", version: "v1", resource: "secrets" }
const configMaps: GroupVersionResource = { group: "", version: "v1", resource: "configmaps" }
const services: GroupVersionResource = { group: "", version: "v1", resource: "services" }
const deployments: GroupVersionResource = { group: "apps", version: "v1", resource: "deployments" }
const locations: GroupVersionResource = { group: "ark.heptio.com", version: "v1", resource: "backupstoragelocations" }
const restores: GroupVersionResource = { group: "ark.heptio.com", version: "v1", resource: "restores" }

const run = randomUUID().slice(0, 8)
const serverNamespace = `ark-restore-it-${run}`
const source = `ark-src-${run}`
const target = `ark-dst-${run}`
const prefix = `ark-it-restore-${run}`

const env = Effect.gen(function*() {
  return {
    kubeconfig: yield* Config.string("KUBECONFIG"),
    s3Url: yield* Config.string("ARK_TEST_S3_URL"),
    bucket: yield* Config.string("ARK_TEST_S3_BUCKET"),
    accessKeyId: yield* Config.string("AWS_ACCESS_KEY_ID"),
    secretAccessKey: yield* Config.redacted("AWS_SECRET_ACCESS_KEY"),
    region: yield* Config.string("AWS_REGION")
  }
}).pipe(Effect.orDieWith((error) => new Error(`the restore integration test needs the test environment: ${error}`)))

/** `ark ARGS --namespace <server namespace> --kubeconfig K`, run to its end without blocking the test's fibers. */
const ark = (kubeconfig: string, ...args: ReadonlyArray<string>) =>
  arkRun(...args, "--namespace", serverNamespace, "--kubeconfig", kubeconfig)

/** `ark server` as a child process; stopped with SIGTERM when the scope closes. */
const startServer = (kubeconfig: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, [
        mainTs,
        "server",
        "--kubeconfig",
        kubeconfig,
        "--namespace",
        serverNamespace,
        "--backup-sync-period",
        "5s",
        "--log-format",
        "json",
        "--metrics-address",
        "127.0.0.1:0"
      ], { stdio: ["ignore", "pipe", "pipe"] })
      const output: Array<string> = []
      child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")))
      child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")))
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
      return { child, output, exited }
    }),
    ({ child, exited }) =>
      Effect.promise(() => {
        if (child.exitCode === null) child.kill("SIGTERM")
        return exited
      })
  )

const seedApp = Effect.gen(function*() {
  const kube = yield* KubeClient
  yield* ensureNamespace(source)
  for (let i = 0; i < 2; i++) {
    yield* kube.create(configMaps, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `settings-${i}`, namespace: source },
      data: { i: String(i) }
    })
  }
  yield* kube.create(secrets, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "token", namespace: source },
    stringData: { token: "t" }
  })
  yield* kube.create(services, {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: source },
    spec: { selector: { app: "web" }, ports: [{ port: 80 }] }
  })
  yield* kube.create(deployments, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: source },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } }
    }
  })
})

const labels = (object: KubeObject) => object.metadata.labels ?? {}

describe("ark restore on a real cluster with MinIO", () => {
  it.live("backs a namespace up, deletes it, restores it under a new name with --wait", () =>
    Effect.gen(function*() {
      const config = yield* env
      const kube = yield* KubeClient
      yield* applyCrds
      yield* ensureNamespace(serverNamespace)
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
      yield* kube.create(locations, {
        apiVersion,
        kind: "BackupStorageLocation",
        metadata: { name: "default", namespace: serverNamespace },
        spec: {
          provider: "aws",
          objectStorage: { bucket: config.bucket, prefix },
          config: { region: config.region, s3Url: config.s3Url, s3ForcePathStyle: "true" },
          credential: { name: "minio-credentials", key: "cloud" }
        }
      })
      const server = yield* startServer(config.kubeconfig)
      const serverLog = () => server.output.join("")

      const backedUp = yield* ark(
        config.kubeconfig,
        "backup",
        "create",
        "app",
        "--include-namespaces",
        source,
        "--wait"
      )
      assert.strictEqual(backedUp.status, 0, backedUp.stderr + serverLog())

      // The disaster: the namespace and everything in it are gone.
      yield* kube.delete(namespaceGvr, source)
      yield* waitFor(
        `namespace ${source} deleted`,
        kube.get(namespaceGvr, source).pipe(
          Effect.map(() => Option.none()),
          Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.some(true)))
        ),
        "120 seconds"
      )

      const restored = yield* ark(
        config.kubeconfig,
        "restore",
        "create",
        "--from-backup",
        "app",
        "--namespace-mappings",
        `${source}:${target}`,
        "--wait"
      )
      assert.strictEqual(restored.status, 0, restored.stdout + restored.stderr + serverLog())
      const name = /Restore request "([^"]+)" submitted/.exec(restored.stdout)?.[1] ?? ""
      assert.match(name, /^app-[0-9]{14}$/)
      assert.include(restored.stdout, `Restore "${name}" Completed`)

      for (
        const [resource, objectName] of [[configMaps, "settings-0"], [configMaps, "settings-1"], [secrets, "token"], [
          services,
          "web"
        ], [deployments, "web"]] as const
      ) {
        const object = yield* kube.get(resource, objectName, target)
        assert.strictEqual(labels(object)["ark.heptio.com/restore-name"], name, `${resource.resource}/${objectName}`)
        assert.strictEqual(labels(object)["ark.heptio.com/backup-name"], "app", `${resource.resource}/${objectName}`)
      }
      assert.deepStrictEqual((yield* kube.get(configMaps, "settings-1", target))["data"], { i: "1" })

      const table = yield* ark(config.kubeconfig, "restore", "get")
      assert.strictEqual(table.status, 0, table.stderr)
      assert.match(table.stdout, new RegExp(`^${name}\\s+app\\s+Completed\\s`, "m"))
      const logs = yield* ark(config.kubeconfig, "restore", "logs", name)
      assert.strictEqual(logs.status, 0, logs.stderr)
      assert.isAbove(logs.stdout.trim().length, 0)

      // A dry run against the now-present namespace: everything is there already, nothing is written.
      const dry = yield* ark(
        config.kubeconfig,
        "restore",
        "create",
        "--from-backup",
        "app",
        "--namespace-mappings",
        `${source}:${target}`,
        "--dry-run"
      )
      assert.strictEqual(dry.status, 0, dry.stderr)
      assert.match(dry.stdout, /^0 to create, [0-9]+ unchanged, [0-9]+ conflicts?, [0-9]+ skipped$/m)
      const listed = yield* Stream.runCollect(kube.listPages(restores, { namespace: serverNamespace }))
      assert.deepStrictEqual([...listed].flatMap((page) => page.items).map((object) => object.metadata.name), [name])

      const deleted = yield* ark(config.kubeconfig, "restore", "delete", name, "--confirm")
      assert.strictEqual(deleted.status, 0, deleted.stderr)

      const store = yield* S3ObjectStore.make({
        bucket: config.bucket,
        prefix,
        region: config.region,
        s3Url: config.s3Url,
        s3ForcePathStyle: true,
        credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }
      })
      assert.deepStrictEqual((yield* store.list(`restores/${name}/`)).objects, [])
      const all = yield* store.list("")
      yield* Effect.forEach(all.objects, (object) => store.delete(object.key), { discard: true })
    }).pipe(
      Effect.ensuring(
        KubeClient.pipe(
          Effect.flatMap((kube) =>
            Effect.forEach(
              [target, source, serverNamespace],
              (namespace) => kube.delete(namespaceGvr, namespace).pipe(Effect.ignore),
              { discard: true }
            )
          )
        )
      ),
      Effect.scoped,
      Effect.provide(liveKube())
    ), 600_000)
})
