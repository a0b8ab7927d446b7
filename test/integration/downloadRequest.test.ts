// DownloadRequests on real components: a real `ark server` process backs up to MinIO and signs the
// backup's resource list on request. Then the controller, run in this process with a short TTL,
// signs the tarball and the log; plain `fetch` of the URLs returns the stored bytes, and once the
// TTL has passed the requests are deleted and the URLs refused.
import { randomUUID } from "node:crypto"
import { gunzipSync } from "node:zlib"

import { assert, describe, it } from "@effect/vitest"
import { Chunk, Clock, Effect, Layer, Stream } from "effect"

import * as ObjectStoreProviderLive from "../../layers/objectstore/Provider.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import type { DownloadTargetKind } from "../../src/api/index.ts"
import { apiVersion } from "../../src/api/index.ts"
import { backupKeys, resourceEntryPath } from "../../src/archive/layout.ts"
import { readArchive } from "../../src/archive/reader.ts"
import { downloadRequestsGvr } from "../../src/download/requests.ts"
import * as DownloadRequestController from "../../src/server/controllers/downloadRequest.ts"
import { gvr, minio } from "./backupFixtures.ts"
import { liveKube } from "./live.ts"
import {
  arkGvr,
  arkServer,
  finished,
  kubeconfigOf,
  serverNamespace,
  sharedMinio,
  statusOf,
  waitForGone,
  waitForObject
} from "./serverProcess.ts"

const run = randomUUID().slice(0, 8)

const concat = (chunks: Chunk.Chunk<Uint8Array>) => new Uint8Array(Buffer.concat(Chunk.toReadonlyArray(chunks)))

/** The object as MinIO holds it, read with the test's own S3 client. */
const storedBytes = (key: string) =>
  Effect.flatMap(ObjectStore, (store) => Stream.runCollect(store.get(key))).pipe(Effect.map((chunks) => concat(chunks)))

const fetchUrl = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()) }
  })

describe("DownloadRequests against MinIO", () => {
  it.live(
    "the tarball and the log of a real backup, fetched through signed URLs; expired requests deleted",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const namespace = `ark-it-dl-srv-${run}`
        const app = `ark-it-dl-app-${run}`
        const prefix = `ark-it-dl-${run}`
        yield* serverNamespace(namespace, yield* sharedMinio(prefix))
        yield* Effect.acquireRelease(
          kube.create(gvr.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: app } }),
          () => kube.delete(gvr.namespaces, app).pipe(Effect.ignore)
        )
        yield* kube.create(gvr.configMaps, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "settings", namespace: app },
          data: { a: "1" }
        })

        // The backup, by a real server that is stopped before the controller under test starts.
        yield* Effect.scoped(Effect.gen(function*() {
          const server = yield* arkServer(yield* kubeconfigOf(1), namespace)
          yield* kube.create(arkGvr.backups, {
            apiVersion,
            kind: "Backup",
            metadata: { name: "shipped", namespace },
            spec: { includedNamespaces: [app] }
          })
          const done = yield* waitForObject(arkGvr.backups, "shipped", namespace, "finished", finished).pipe(
            Effect.tapError(() => Effect.sync(() => console.error(server.output())))
          )
          assert.strictEqual(statusOf(done)["phase"], "Completed", JSON.stringify(statusOf(done)))
          // The server runs the controller too: its URL for the resource list fetches the stored file.
          yield* kube.create(downloadRequestsGvr, {
            apiVersion,
            kind: "DownloadRequest",
            metadata: { name: "shipped-resources", namespace },
            spec: { target: { kind: "BackupResourceList", name: "shipped" } }
          })
          const byServer = yield* waitForObject(
            downloadRequestsGvr,
            "shipped-resources",
            namespace,
            "Processed",
            (object) => statusOf(object)["phase"] === "Processed"
          )
          const resources = yield* fetchUrl(String(statusOf(byServer)["downloadURL"]))
          assert.strictEqual(resources.status, 200)
          assert.deepStrictEqual(resources.bytes, yield* storedBytes(backupKeys("shipped").resourceList))
        }))

        // The URLs must still work while the test fetches them below, on a machine however busy.
        const ttlSeconds = 60
        yield* Layer.build(
          DownloadRequestController.layer({ namespace, urlTtl: `${ttlSeconds} seconds`, expiryPeriod: "1 second" })
            .pipe(
              Layer.provide(ObjectStoreProviderLive.layer)
            )
        )
        const before = yield* Clock.currentTimeMillis
        const request = (name: string, kind: DownloadTargetKind) =>
          kube.create(downloadRequestsGvr, {
            apiVersion,
            kind: "DownloadRequest",
            metadata: { name, namespace },
            spec: { target: { kind, name: "shipped" } }
          })
        yield* request("shipped-contents", "BackupContents")
        yield* request("shipped-log", "BackupLog")
        const served = (name: string) =>
          waitForObject(
            downloadRequestsGvr,
            name,
            namespace,
            "Processed",
            (object) => statusOf(object)["phase"] === "Processed"
          ).pipe(
            Effect.map((object) => statusOf(object))
          )
        const contents = yield* served("shipped-contents")
        const log = yield* served("shipped-log")
        const after = yield* Clock.currentTimeMillis

        for (const status of [contents, log]) {
          assert.isString(status["downloadURL"])
          const expiration = Date.parse(String(status["expiration"]))
          assert.isAtLeast(expiration, Math.floor(before / 1000) * 1000 + ttlSeconds * 1000)
          assert.isAtMost(expiration, after + ttlSeconds * 1000)
        }

        // Plain HTTP, no credentials: the bytes MinIO stores.
        const tarball = yield* fetchUrl(String(contents["downloadURL"]))
        assert.strictEqual(tarball.status, 200)
        assert.deepStrictEqual(tarball.bytes, yield* storedBytes(backupKeys("shipped").tarball))
        const entries = yield* Stream.runCollect(readArchive(Stream.make(tarball.bytes)))
        assert.include(
          Chunk.toReadonlyArray(entries).map((entry) => entry.path),
          resourceEntryPath("configmaps", app, "settings")
        )

        const logFile = yield* fetchUrl(String(log["downloadURL"]))
        assert.strictEqual(logFile.status, 200)
        assert.deepStrictEqual(logFile.bytes, yield* storedBytes(backupKeys("shipped").logs))
        const lines = gunzipSync(logFile.bytes).toString("utf8").trim().split("\n").map((line) =>
          JSON.parse(line) as Record<string, unknown>
        )
        assert.isAbove(lines.length, 0)
        for (const line of lines) assert.strictEqual(line["backup"], "shipped")

        // After the TTL: both requests are gone, and the URLs no longer work.
        yield* waitForGone(downloadRequestsGvr, "shipped-contents", namespace)
        yield* waitForGone(downloadRequestsGvr, "shipped-log", namespace)
        // Expirations are whole seconds, so a request may go up to a second before `before` + TTL.
        assert.isAtLeast(yield* Clock.currentTimeMillis, Math.floor(before / 1000) * 1000 + ttlSeconds * 1000)
        const expired = yield* fetchUrl(String(contents["downloadURL"]))
        assert.strictEqual(expired.status, 403)
      }).pipe(Effect.scoped, Effect.provide(Layer.merge(liveKube(), minio(`ark-it-dl-${run}`)))),
    300_000
  )
})
