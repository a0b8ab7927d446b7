// DownloadRequests on the fake API server and buckets with the TestClock: a URL for each target
// kind from the right location, Processed without a URL when there is nothing to sign, retries
// while the store is down, and expired requests deleted after the TTL and not before.
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Logger, TestClock } from "effect"

import { MemoryObjectStores } from "../../layers/objectstore/MemoryProvider.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { DownloadTargetKind } from "../../src/api/index.ts"
import { apiVersion } from "../../src/api/index.ts"
import { backupKeys, restoreKeys } from "../../src/archive/layout.ts"
import { downloadRequestsGvr } from "../../src/download/requests.ts"
import * as DownloadRequestController from "../../src/server/controllers/downloadRequest.ts"
import {
  bucketOf,
  deletionLayer,
  exists,
  installLocation,
  seedBackup,
  statusOf,
  storeOf,
  waitAdvancing,
  when
} from "../gc/fixtures.ts"
import { installArk, serverNamespace } from "./fixtures.ts"

const start = Date.parse("2024-05-01T12:00:00Z")
const tenMinutesLater = Date.parse("2024-05-01T12:10:00Z")

const startController = (config: Partial<DownloadRequestController.DownloadRequestControllerConfig> = {}) =>
  Layer.build(DownloadRequestController.layer({ namespace: serverNamespace, ...config }))

const downloadRequest = (name: string, kind: DownloadTargetKind, target: string): KubeObject => ({
  apiVersion,
  kind: "DownloadRequest",
  metadata: { name, namespace: serverNamespace },
  spec: { target: { kind, name: target } }
})

const submit = (name: string, kind: DownloadTargetKind, target: string) =>
  Effect.flatMap(KubeClient, (kube) => kube.create(downloadRequestsGvr, downloadRequest(name, kind, target)))

const getRequest = (name: string) =>
  Effect.flatMap(KubeClient, (kube) => kube.get(downloadRequestsGvr, name, serverNamespace))

const processed = (name: string) =>
  waitAdvancing(
    `download request ${name} Processed`,
    getRequest(name).pipe(Effect.map((request) => when(statusOf(request), statusOf(request)["phase"] === "Processed")))
  )

/** The fake store's signed URL: `memory://<bucket>/<key>?expires=<epoch seconds>`. */
const memoryUrl = (location: string, key: string, expiresMillis: number) =>
  `memory://${bucketOf(location)}/${key}?expires=${expiresMillis / 1000}`

const now = TestClock.currentTimeMillis

describe("the download-request controller", () => {
  it.scoped("signs each target kind's file in the backup's own location, valid for the URL TTL", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(start)
      yield* installArk
      yield* installLocation("default")
      yield* installLocation("secondary")
      // The restore's files live with its backup, in the backup's location (not `default`).
      yield* seedBackup("nightly", { location: "secondary", restores: ["nightly-restore"] })
      yield* startController()

      const cases: ReadonlyArray<readonly [DownloadTargetKind, string, string]> = [
        ["BackupContents", "nightly", backupKeys("nightly").tarball],
        ["BackupLog", "nightly", backupKeys("nightly").logs],
        ["BackupResourceList", "nightly", backupKeys("nightly").resourceList],
        ["RestoreLog", "nightly-restore", restoreKeys("nightly-restore").logs],
        ["RestoreResults", "nightly-restore", restoreKeys("nightly-restore").results]
      ]
      for (const [kind, target] of cases) yield* submit(kind.toLowerCase(), kind, target)
      for (const [kind, , key] of cases) {
        const status = yield* processed(kind.toLowerCase())
        assert.strictEqual(status["downloadURL"], memoryUrl("secondary", key, tenMinutesLater), kind)
        assert.strictEqual(status["expiration"], "2024-05-01T12:10:00Z", kind)
      }
      assert.strictEqual(backupKeys("nightly").tarball, "backups/nightly/nightly.tar.gz")
      assert.strictEqual(
        restoreKeys("nightly-restore").results,
        "restores/nightly-restore/restore-nightly-restore-results.gz"
      )
    }).pipe(Effect.provide(deletionLayer)))

  it.scoped("the URL TTL is configurable and counts from when the request is served", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(start)
      yield* installArk
      yield* installLocation("default")
      yield* seedBackup("nightly")
      yield* startController({ urlTtl: "90 seconds" })
      yield* TestClock.adjust("30 minutes")
      yield* submit("later", "BackupLog", "nightly")
      const status = yield* processed("later")
      const expires = start + 30 * 60_000 + 90_000
      assert.strictEqual(status["downloadURL"], memoryUrl("default", backupKeys("nightly").logs, expires))
      assert.strictEqual(status["expiration"], "2024-05-01T12:31:30Z")
    }).pipe(Effect.provide(deletionLayer)))

  it.scoped("a missing backup, restore or file: Processed with no URL, and it still expires", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(start)
      yield* installArk
      yield* installLocation("default")
      yield* seedBackup("nightly", { restores: ["nightly-restore"] })
      yield* (yield* storeOf("default")).delete(backupKeys("nightly").resourceList)
      yield* startController()

      yield* submit("no-backup", "BackupContents", "ghost")
      yield* submit("no-restore", "RestoreLog", "ghost-restore")
      yield* submit("no-file", "BackupResourceList", "nightly")
      yield* submit("served", "BackupContents", "nightly")
      for (const name of ["no-backup", "no-restore", "no-file"]) {
        const status = yield* processed(name)
        assert.isUndefined(status["downloadURL"], name)
        assert.strictEqual(status["expiration"], "2024-05-01T12:10:00Z", name)
      }
      // The others do not hold up a servable request.
      assert.isString((yield* processed("served"))["downloadURL"])
    }).pipe(Effect.provide(deletionLayer)))

  it.scoped("while the store is unreachable the request stays New and is retried; then it gets its URL", () => {
    const messages: Array<string> = []
    const capture = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ message }) => {
        messages.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
      })
    )
    return Effect.gen(function*() {
      yield* TestClock.setTime(start)
      yield* installArk
      yield* installLocation("default")
      yield* seedBackup("nightly")
      const stores = yield* MemoryObjectStores
      yield* stores.unreachable(bucketOf("default"), "connect ECONNREFUSED")
      yield* startController()
      yield* submit("waiting", "BackupLog", "nightly")

      const retrying = (count: number) =>
        Effect.sync(() =>
          when(
            true,
            messages.filter((line) => line.includes("trying again") && line.includes("ECONNREFUSED")).length >= count
          )
        )
      yield* waitAdvancing("three failed attempts", retrying(3), "1 second")
      assert.isUndefined(statusOf(yield* getRequest("waiting"))["phase"])

      yield* stores.reachable(bucketOf("default"))
      const status = yield* waitAdvancing(
        "the request served once the store is back",
        getRequest("waiting").pipe(
          Effect.map((request) => when(statusOf(request), statusOf(request)["phase"] === "Processed"))
        ),
        "1 second"
      )
      const servedAt = yield* now
      assert.strictEqual(
        status["downloadURL"],
        memoryUrl("default", backupKeys("nightly").logs, Math.floor(servedAt / 1000) * 1000 + 600_000)
      )
    }).pipe(Effect.provide(Layer.merge(deletionLayer, capture)))
  })

  it.scoped("an expired request is deleted by the next pass after its expiration, not before", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(start)
      yield* installArk
      yield* installLocation("default")
      yield* seedBackup("nightly")
      yield* startController({ urlTtl: "10 minutes", expiryPeriod: "1 minute" })
      yield* submit("first", "BackupContents", "nightly")
      assert.strictEqual((yield* processed("first"))["expiration"], "2024-05-01T12:10:00Z")

      yield* TestClock.adjust("5 minutes")
      yield* submit("second", "BackupLog", "nightly")
      assert.strictEqual((yield* processed("second"))["expiration"], "2024-05-01T12:15:00Z")

      // At 12:09 a request that expired a minute ago: once a pass has removed it, that same pass
      // has seen "first" (expiring 12:10) and kept it.
      yield* TestClock.adjust("4 minutes")
      const kube = yield* KubeClient
      yield* kube.create(downloadRequestsGvr, downloadRequest("stale", "BackupLog", "nightly"))
      yield* kube.patchStatus(downloadRequestsGvr, "stale", {
        type: "merge",
        body: { status: { phase: "Processed", expiration: "2024-05-01T12:08:00Z" } }
      }, serverNamespace)
      yield* waitAdvancing(
        "the stale request deleted",
        exists(downloadRequestsGvr, "stale").pipe(Effect.map((found) => when(true, !found))),
        "1 minute"
      )
      assert.isAtMost(yield* now, tenMinutesLater)
      assert.isTrue(yield* exists(downloadRequestsGvr, "first"))

      yield* waitAdvancing(
        "first deleted",
        exists(downloadRequestsGvr, "first").pipe(Effect.map((found) => when(true, !found))),
        "1 minute"
      )
      const deletedAt = yield* now
      assert.isAbove(deletedAt, tenMinutesLater)
      assert.isAtMost(deletedAt, tenMinutesLater + 2 * 60_000)
      // "second" expires at 12:15.
      assert.isTrue(yield* exists(downloadRequestsGvr, "second"))
      yield* waitAdvancing(
        "second deleted",
        exists(downloadRequestsGvr, "second").pipe(Effect.map((found) => when(true, !found))),
        "1 minute"
      )
      assert.isAbove(yield* now, Date.parse("2024-05-01T12:15:00Z"))
    }).pipe(Effect.provide(deletionLayer)))

  it.scoped("a request the controller finds already Processed is left as it is", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(start)
      yield* installArk
      yield* installLocation("default")
      yield* seedBackup("nightly")
      const kube = yield* KubeClient
      yield* kube.create(downloadRequestsGvr, downloadRequest("done", "BackupLog", "nightly"))
      const expiration = DateTime.formatIso(DateTime.unsafeMake(start + 3_600_000)).replace(".000Z", "Z")
      yield* kube.patchStatus(downloadRequestsGvr, "done", {
        type: "merge",
        body: { status: { phase: "Processed", downloadURL: "https://example.com/kept", expiration } }
      }, serverNamespace)
      yield* startController()
      // A request submitted after it is served, so the controller has seen "done" by then.
      yield* submit("fresh", "BackupLog", "nightly")
      yield* processed("fresh")
      assert.deepStrictEqual(statusOf(yield* getRequest("done")), {
        phase: "Processed",
        downloadURL: "https://example.com/kept",
        expiration
      })
    }).pipe(Effect.provide(deletionLayer)))
})
