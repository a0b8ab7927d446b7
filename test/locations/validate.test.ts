// Location validation: reachable stores are Available, unreachable or unusable ones Unavailable
// with the reason, and the controller re-checks every period.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer, Option } from "effect"

import { MemoryObjectStores } from "../../layers/objectstore/MemoryProvider.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { readMarker } from "../../src/locations/marker.ts"
import { decodeLocation, getLocation } from "../../src/locations/resolve.ts"
import { checkLocation } from "../../src/locations/validate.ts"
import * as LocationController from "../../src/server/controllers/locations.ts"
import {
  installArk,
  location,
  locations,
  memoryLayer,
  serverNamespace,
  statusOf,
  waitForPhase,
  waitForStatus
} from "../server/fixtures.ts"

describe("BackupStorageLocation validation", () => {
  it.effect("a reachable store is Available; a down one or an unusable location is Unavailable with the reason", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      const stores = yield* MemoryObjectStores
      yield* installArk
      yield* kube.create(locations, location("good", { objectStorage: { bucket: "ark", prefix: "a" } }))
      yield* kube.create(locations, location("down", { objectStorage: { bucket: "down" } }))
      yield* kube.create(locations, location("locked", { objectStorage: { bucket: "locked" } }))
      yield* stores.unreachable("down", "connect ECONNREFUSED 127.0.0.1:1")
      yield* stores.rejectLocation("locked", "Secret heptio-ark/cloud-credentials has no key cloud")

      const good = yield* checkLocation(yield* getLocation(serverNamespace, "good"))
      assert.deepStrictEqual(good, { phase: "Available", message: "bucket ark prefix a is reachable" })
      const down = yield* checkLocation(yield* getLocation(serverNamespace, "down"))
      assert.deepStrictEqual(down, { phase: "Unavailable", message: "bucket down: connect ECONNREFUSED 127.0.0.1:1" })
      const locked = yield* checkLocation(yield* getLocation(serverNamespace, "locked"))
      assert.deepStrictEqual(locked, {
        phase: "Unavailable",
        message: "bucket locked: Secret heptio-ark/cloud-credentials has no key cloud"
      })
    }).pipe(Effect.provide(memoryLayer)))

  it.effect("a ReadWrite prefix gets its marker once and keeps it; a ReadOnly one is never written", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      const stores = yield* MemoryObjectStores
      yield* installArk
      yield* kube.create(locations, location("rw", { objectStorage: { bucket: "ark", prefix: "rw" } }))
      yield* kube.create(
        locations,
        location("ro", { objectStorage: { bucket: "ark", prefix: "ro" }, accessMode: "ReadOnly" })
      )
      const rw = yield* getLocation(serverNamespace, "rw")
      assert.strictEqual((yield* checkLocation(rw)).phase, "Available")
      const store = yield* stores.store("ark", "rw")
      const first = yield* readMarker(store)
      assert.isTrue(Option.isSome(first) && /^[0-9a-f]{32}$/.test(first.value))
      yield* checkLocation(rw)
      assert.deepStrictEqual(yield* readMarker(store), first)
      // Another prefix gets its own id.
      yield* kube.patch(locations, "rw", {
        type: "merge",
        body: { spec: { objectStorage: { bucket: "ark", prefix: "rw2" } } }
      }, serverNamespace)
      yield* checkLocation(yield* getLocation(serverNamespace, "rw"))
      const second = yield* readMarker(yield* stores.store("ark", "rw2"))
      assert.isTrue(Option.isSome(second) && !Option.getEquivalence((a: string, b: string) => a === b)(first, second))

      assert.strictEqual((yield* checkLocation(yield* getLocation(serverNamespace, "ro"))).phase, "Available")
      assert.isTrue(Option.isNone(yield* readMarker(yield* stores.store("ark", "ro"))))
    }).pipe(Effect.provide(memoryLayer)))

  it.effect("a missing location and an undecodable one are told apart", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* installArk
      const missing = yield* Effect.flip(getLocation(serverNamespace, "nope"))
      assert.strictEqual(missing._tag, "LocationNotFound")
      const created = yield* kube.create(locations, location("weird", { provider: "gcp" }))
      const decoded = decodeLocation(created)
      assert.isTrue(Either.isLeft(decoded))
      if (Either.isLeft(decoded)) {
        assert.include(decoded.left.message, "spec.provider: expected one of \"aws\", \"filesystem\"")
      }
    }).pipe(Effect.provide(memoryLayer)))

  it.scopedLive(
    "the controller validates new locations at once and re-checks every period",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const stores = yield* MemoryObjectStores
        yield* installArk
        yield* kube.create(locations, location("default", {}))
        yield* Layer.build(LocationController.layer({ namespace: serverNamespace, validationPeriod: "150 millis" }))
        const available = yield* waitForPhase(locations, "default", "Available")
        assert.isString(statusOf(available)["lastValidationTime"])

        // Created after the server started: validated without waiting for the period.
        yield* kube.create(locations, location("odd", { provider: "gcp" }))
        const odd = yield* waitForPhase(locations, "odd", "Unavailable")
        assert.include(String(statusOf(odd)["message"]), "spec.provider")

        yield* stores.unreachable("ark", "503 SlowDown")
        const down = yield* waitForPhase(locations, "default", "Unavailable")
        assert.strictEqual(statusOf(down)["message"], "bucket ark: 503 SlowDown")
        yield* stores.reachable("ark")
        yield* waitForStatus(locations, "default", "Available again", (status) => status["phase"] === "Available")
      }).pipe(Effect.provide(memoryLayer))
  )
})
