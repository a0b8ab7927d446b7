// The GC controller on the fake API server and the TestClock: a pass at start and every period;
// a backup gets a DeleteBackupRequest once its expiration has passed, and only one.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Ref, Stream, TestClock } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import { KubeClient, KubeUnavailable } from "../../services/KubeClient.ts"
import * as GcController from "../../src/server/controllers/gc.ts"
import { requestsOf, waitAdvancing, when } from "../gc/fixtures.ts"
import { backup, backups, installArk, location, locations, serverNamespace } from "./fixtures.ts"

const seedBackup = (name: string, expiration: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* kube.create(backups, backup(name, {}))
    yield* kube.patchStatus(
      backups,
      name,
      { type: "merge", body: { status: { phase: "Completed", expiration } } },
      serverNamespace
    )
  })

/** Waits until `backup` has a request. Passes list backups by name, so a request for a later name ends a pass. */
const requested = (backupName: string) =>
  waitAdvancing(
    `a DeleteBackupRequest for ${backupName}`,
    requestsOf(backupName).pipe(Effect.map((found) => when(found, found.length > 0)))
  )

describe("gc controller", () => {
  it.scoped("requests a backup's deletion once its expiration passes, not before, and only once", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* TestClock.setTime(Date.parse("2024-05-01T12:00:00Z"))
      yield* installArk
      yield* kube.create(locations, location("default", {}))
      yield* seedBackup("fresh", "2024-05-01T12:30:00Z")
      yield* seedBackup("stale", "2024-05-01T11:00:00Z")
      yield* Layer.build(GcController.layer({ namespace: serverNamespace, period: "1 hour" }))

      // The first pass runs at start: "stale" is collected, "fresh" (listed before it) is not.
      yield* requested("stale")
      assert.lengthOf(yield* requestsOf("fresh"), 0)

      // Half an hour on, fresh has expired but no pass has run yet.
      yield* TestClock.adjust("30 minutes")
      yield* seedBackup("zz-marker-1", "2024-05-01T12:00:00Z")
      assert.lengthOf(yield* requestsOf("fresh"), 0)
      assert.lengthOf(yield* requestsOf("zz-marker-1"), 0)

      // The next pass, an hour after the first, collects fresh and the marker; stale's request is still pending.
      yield* TestClock.adjust("30 minutes")
      yield* requested("zz-marker-1")
      assert.lengthOf(yield* requestsOf("fresh"), 1)
      assert.lengthOf(yield* requestsOf("stale"), 1)

      // And the one after adds no duplicates.
      yield* seedBackup("zz-marker-2", "2024-05-01T12:00:00Z")
      yield* TestClock.adjust("1 hour")
      yield* requested("zz-marker-2")
      assert.lengthOf(yield* requestsOf("fresh"), 1)
      assert.lengthOf(yield* requestsOf("stale"), 1)
      assert.lengthOf(yield* requestsOf("zz-marker-1"), 1)
    }).pipe(Effect.provide(MemoryKube.layer)))

  it.scoped("a pass that fails (the API server is down) is logged and the next one runs", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* TestClock.setTime(Date.parse("2024-05-01T12:00:00Z"))
      yield* installArk
      yield* kube.create(locations, location("default", {}))
      yield* seedBackup("stale", "2024-05-01T11:00:00Z")
      // The GC's client fails its first list of backups.
      const lists = yield* Ref.make(0)
      const flaky: KubeClient.Shape = {
        ...kube,
        listPages: (resource, options) =>
          resource.resource !== "backups" ? kube.listPages(resource, options) : Stream.unwrap(
            Ref.getAndUpdate(lists, (n) => n + 1).pipe(Effect.map((n) =>
              n === 0
                ? Stream.fail(new KubeUnavailable({ resource: "backups", message: "etcd leader changed", status: 503 }))
                : kube.listPages(resource, options)
            ))
          )
      }
      yield* Layer.build(GcController.layer({ namespace: serverNamespace, period: "1 hour" })).pipe(
        Effect.provideService(KubeClient, flaky)
      )
      yield* waitAdvancing("the first pass", Ref.get(lists).pipe(Effect.map((n) => when(n, n >= 1))))
      assert.lengthOf(yield* requestsOf("stale"), 0)
      yield* TestClock.adjust("1 hour")
      yield* requested("stale")
      assert.strictEqual(yield* Ref.get(lists), 2)
    }).pipe(Effect.provide(MemoryKube.layer)))
})
