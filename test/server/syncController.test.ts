// The storage-sync controller on the TestClock: a pass at start and one per period, nothing in
// between, one location's failure never stopping another's, and recovery once storage is back.
import { assert, describe, it } from "@effect/vitest"
import { Data, Effect, Layer, Option, TestClock } from "effect"

import { MemoryObjectStores } from "../../layers/objectstore/MemoryProvider.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import * as SyncController from "../../src/server/controllers/sync.ts"
import {
  backupNames,
  bucket,
  clusterBackup,
  createLocation,
  putBackup,
  putMarker,
  StoreFaults,
  syncLayer
} from "../sync/fixtures.ts"
import { installArk, locations, serverNamespace, statusOf } from "./fixtures.ts"

const period = "1 minute"

class NotSettled extends Data.TaggedError("NotSettled")<{ readonly what: string }> {}

/**
 * Lets the controller's fiber run until `check` holds. Everything here is in memory and the clock is
 * the TestClock, so a bounded number of yields is the deadline.
 */
const settle = <A, E, R>(what: string, check: Effect.Effect<Option.Option<A>, E, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 500; i++) {
      const value = yield* check
      if (Option.isSome(value)) return value.value
      yield* Effect.yieldNow()
    }
    return yield* new NotSettled({ what })
  })

/** Yields long enough for a pass that was due to have run. */
const idle = Effect.forEach(Array.from({ length: 200 }), () => Effect.yieldNow(), { discard: true })

const namesAre = (expected: ReadonlyArray<string>) =>
  settle(
    `Backups ${expected.join(", ")}`,
    backupNames.pipe(
      Effect.map((names) => JSON.stringify(names) === JSON.stringify(expected) ? Option.some(names) : Option.none())
    )
  )

const lastSyncedTime = (location: string) =>
  Effect.flatMap(KubeClient, (kube) => kube.get(locations, location, serverNamespace)).pipe(
    Effect.map((object) => statusOf(object)["lastSyncedTime"])
  )

const start = Layer.build(SyncController.layer({ namespace: serverNamespace, period }))

const setup = Effect.gen(function*() {
  yield* TestClock.setTime(Date.parse("2024-06-01T08:00:00Z"))
  yield* installArk
  yield* createLocation("default")
  yield* putMarker()
})

describe("storage-sync controller", () => {
  it.scoped("syncs at start, then once per period and never in between", () =>
    Effect.gen(function*() {
      yield* setup
      yield* putBackup("first")
      const faults = yield* StoreFaults
      yield* start
      yield* namesAre(["first"])
      assert.strictEqual(yield* lastSyncedTime("default"), "2024-06-01T08:00:00Z")
      const callsAfterFirstPass = yield* faults.listCalls

      yield* putBackup("second")
      yield* TestClock.adjust("59 seconds")
      yield* idle
      assert.deepStrictEqual(yield* backupNames, ["first"], "no pass before the period is up")
      assert.strictEqual(yield* faults.listCalls, callsAfterFirstPass)

      yield* TestClock.adjust("1 second")
      yield* namesAre(["first", "second"])
      assert.strictEqual(yield* lastSyncedTime("default"), "2024-06-01T08:01:00Z")

      yield* putBackup("third")
      yield* TestClock.adjust(period)
      yield* namesAre(["first", "second", "third"])
      assert.strictEqual(yield* lastSyncedTime("default"), "2024-06-01T08:02:00Z")
    }).pipe(Effect.provide(syncLayer)))

  it.scoped("a failed listing deletes and imports nothing; the next period resumes", () =>
    Effect.gen(function*() {
      yield* setup
      yield* clusterBackup("present", "Completed")
      yield* putBackup("present")
      yield* clusterBackup("gone", "Completed")
      yield* putBackup("new")
      const faults = yield* StoreFaults
      yield* faults.failList("backups/")
      yield* start
      yield* settle(
        "a failed pass",
        faults.listCalls.pipe(Effect.map((calls) => calls >= 2 ? Option.some(calls) : Option.none()))
      )
      yield* idle
      assert.deepStrictEqual(yield* backupNames, ["gone", "present"])
      assert.isUndefined(yield* lastSyncedTime("default"))

      // Still failing a period later: still nothing.
      yield* TestClock.adjust(period)
      yield* settle(
        "a second failed pass",
        faults.listCalls.pipe(Effect.map((calls) => calls >= 4 ? Option.some(calls) : Option.none()))
      )
      yield* idle
      assert.deepStrictEqual(yield* backupNames, ["gone", "present"])

      yield* faults.heal
      yield* TestClock.adjust(period)
      yield* namesAre(["new", "present"])
      assert.strictEqual(yield* lastSyncedTime("default"), "2024-06-01T08:02:00Z")
    }).pipe(Effect.provide(syncLayer)))

  it.scoped("one location's unreachable store never stops another's sync", () =>
    Effect.gen(function*() {
      yield* setup
      yield* createLocation("secondary", { objectStorage: { bucket: "secondary" } })
      yield* putBackup("in-default")
      yield* putBackup("in-secondary", { bucket: "secondary", prefix: "" })
      const stores = yield* MemoryObjectStores
      yield* stores.unreachable(bucket, "connection refused")
      yield* start
      yield* namesAre(["in-secondary"])
      assert.isUndefined(yield* lastSyncedTime("default"))
      assert.strictEqual(yield* lastSyncedTime("secondary"), "2024-06-01T08:00:00Z")

      yield* stores.reachable(bucket)
      yield* TestClock.adjust(period)
      yield* namesAre(["in-default", "in-secondary"])
    }).pipe(Effect.provide(syncLayer)))

  it.scoped("a location that does not decode is skipped; the others are synced", () =>
    Effect.gen(function*() {
      yield* setup
      const kube = yield* KubeClient
      yield* kube.create(locations, {
        apiVersion: "ark.heptio.com/v1",
        kind: "BackupStorageLocation",
        metadata: { name: "broken", namespace: serverNamespace },
        spec: { provider: "gcp", objectStorage: { bucket } }
      })
      yield* putBackup("nightly")
      yield* start
      yield* namesAre(["nightly"])
      assert.isUndefined(yield* lastSyncedTime("broken"))
    }).pipe(Effect.provide(syncLayer)))

  it.scoped("a pass with no locations does nothing and the loop carries on", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2024-06-01T08:00:00Z"))
      yield* installArk
      yield* start
      yield* idle
      yield* createLocation("default")
      yield* putBackup("late")
      yield* TestClock.adjust(period)
      yield* namesAre(["late"])
    }).pipe(Effect.provide(syncLayer)))
})
