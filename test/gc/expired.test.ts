// One garbage-collection pass over the fake API server: which backups count as expired, and the
// requests a pass creates (and does not create).
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, TestClock } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { backupNameLabel } from "../../src/api/index.ts"
import { collectExpiredBackups, isExpired } from "../../src/gc/expired.ts"
import { backup, backups, installArk, location, locations, serverNamespace } from "../server/fixtures.ts"
import { requests, requestsOf, statusOf } from "./fixtures.ts"

const now = DateTime.unsafeMake("2024-05-01T12:00:00Z")

const withStatus = (status: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject => ({
  ...backup("b", spec),
  status
})

describe("isExpired", () => {
  const cases: ReadonlyArray<readonly [string, KubeObject, boolean]> = [
    ["Completed, expiration passed", withStatus({ phase: "Completed", expiration: "2024-05-01T11:59:59Z" }), true],
    ["Completed, expiration is now", withStatus({ phase: "Completed", expiration: "2024-05-01T12:00:00Z" }), true],
    ["Completed, expiration ahead", withStatus({ phase: "Completed", expiration: "2024-05-01T12:00:01Z" }), false],
    ["PartiallyFailed, passed", withStatus({ phase: "PartiallyFailed", expiration: "2024-04-01T00:00:00Z" }), true],
    ["Failed, passed", withStatus({ phase: "Failed", expiration: "2024-04-01T00:00:00Z" }), true],
    ["FailedValidation, passed", withStatus({ phase: "FailedValidation", expiration: "2024-04-01T00:00:00Z" }), true],
    ["New, passed", withStatus({ phase: "New", expiration: "2024-04-01T00:00:00Z" }), false],
    ["no phase, passed", withStatus({ expiration: "2024-04-01T00:00:00Z" }), false],
    ["InProgress, passed", withStatus({ phase: "InProgress", expiration: "2024-04-01T00:00:00Z" }), false],
    ["Deleting, passed", withStatus({ phase: "Deleting", expiration: "2024-04-01T00:00:00Z" }), false],
    ["Completed, no expiration", withStatus({ phase: "Completed" }), false],
    ["Completed, unreadable expiration", withStatus({ phase: "Completed", expiration: "yesterday" }), false]
  ]
  for (const [name, object, expected] of cases) {
    it(name, () => assert.strictEqual(isExpired(object, now), expected))
  }
})

const seedBackup = (name: string, status: Record<string, unknown>, spec: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* kube.create(backups, backup(name, spec))
    yield* kube.patchStatus(backups, name, { type: "merge", body: { status } }, serverNamespace)
  })

describe("a garbage-collection pass", () => {
  it.effect("requests the deletion of expired backups only, once, and never from a ReadOnly location", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* TestClock.setTime(DateTime.toEpochMillis(now))
      yield* installArk
      yield* kube.create(locations, location("default", {}))
      yield* kube.create(locations, location("archive", { accessMode: "ReadOnly" }))
      yield* seedBackup("expired", { phase: "Completed", expiration: "2024-05-01T11:00:00Z" })
      yield* seedBackup("fresh", { phase: "Completed", expiration: "2024-05-01T13:00:00Z" })
      yield* seedBackup("running", { phase: "InProgress", expiration: "2024-05-01T11:00:00Z" })
      yield* seedBackup("archived", { phase: "Completed", expiration: "2024-05-01T11:00:00Z" }, {
        storageLocation: "archive"
      })

      const first = yield* collectExpiredBackups(serverNamespace)
      assert.deepStrictEqual(first.requested, ["expired"])
      assert.deepStrictEqual(first.skipped, [{
        backup: "archived",
        reason: "its storage location \"archive\" is ReadOnly"
      }])
      const [request, ...more] = yield* requestsOf("expired")
      assert.lengthOf(more, 0)
      assert.deepStrictEqual(request!["spec"], { backupName: "expired" })
      assert.strictEqual(request!.metadata.labels?.[backupNameLabel], "expired")
      assert.match(request!.metadata.name ?? "", /^expired-[a-z0-9]{5}$/)

      // A pending request is enough: the next pass adds none.
      assert.deepStrictEqual((yield* collectExpiredBackups(serverNamespace)).requested, [])
      assert.lengthOf(yield* requestsOf("expired"), 1)

      // A request Processed with errors (a refusal) does not count as pending: the next pass asks again.
      yield* kube.patchStatus(requests, request!.metadata.name ?? "", {
        type: "merge",
        body: { status: { phase: "Processed", errors: ["x"] } }
      }, serverNamespace)
      yield* TestClock.adjust("1 hour")
      const third = yield* collectExpiredBackups(serverNamespace)
      assert.deepStrictEqual(third.requested, ["expired", "fresh"])
      const requestsNow = yield* requestsOf("expired")
      assert.lengthOf(requestsNow, 2)
      assert.deepStrictEqual(requestsNow.map((found) => statusOf(found)["phase"] ?? "New").sort(), ["New", "Processed"])
      assert.lengthOf(yield* requestsOf("running"), 0)
      assert.lengthOf(yield* requestsOf("archived"), 0)
    }).pipe(Effect.provide(MemoryKube.layer)))

  it.effect("a long backup name gets a valid label and a generateName the API server accepts", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* installArk
      const name = `${"a".repeat(70)}.b-${"c".repeat(20)}`
      yield* seedBackup(name, { phase: "Completed", expiration: "1970-01-01T00:00:00Z" })
      yield* kube.create(locations, location("default", {}))
      assert.deepStrictEqual((yield* collectExpiredBackups(serverNamespace)).requested, [name])
      const [request] = yield* requestsOf(name)
      const label = request!.metadata.labels?.[backupNameLabel] ?? ""
      assert.isAtMost(label.length, 63)
      assert.match(label, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
      assert.isTrue(label.startsWith("a".repeat(50)))
      assert.isAtMost((request!.metadata.name ?? "").length, 63)
      assert.strictEqual(request!.metadata.annotations?.[backupNameLabel], name)
    }).pipe(Effect.provide(MemoryKube.layer)))
})
