// Leader election on the fake API server, driven by TestClock: one leader at a time, a released
// lease is taken at once, a crashed holder's only after leaseDuration, and a leader that cannot
// renew stops its work.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Ref, TestClock } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { leasesGvr, whileLeader } from "../../src/server/leader.ts"

const namespace = "heptio-ark"
const config = (identity: string) => ({ namespace, leaseName: "ark-server", identity })

const setup = Effect.flatMap(
  KubeClient,
  (kube) =>
    kube.create({ group: "", version: "v1", resource: "namespaces" }, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace }
    })
)

const holder = Effect.flatMap(KubeClient, (kube) =>
  kube.get(leasesGvr, "ark-server", namespace).pipe(
    Effect.map((lease) => (lease["spec"] as { holderIdentity?: string }).holderIdentity ?? "")
  ))

/** Work that records it is running and never ends by itself. */
const leaderWork = (running: Ref.Ref<ReadonlyArray<string>>, identity: string) =>
  Effect.acquireRelease(
    Ref.update(running, (ids) => [...ids, identity]),
    () => Ref.update(running, (ids) => ids.filter((id) => id !== identity))
  ).pipe(Effect.zipRight(Effect.never), Effect.scoped)

describe("leader election", () => {
  it.effect("one of two candidates leads; the other takes over as soon as the lease is released", () =>
    Effect.gen(function*() {
      yield* setup
      const running = yield* Ref.make<ReadonlyArray<string>>([])
      const a = yield* Effect.fork(whileLeader(config("a"), leaderWork(running, "a")))
      yield* TestClock.adjust("1 second")
      const b = yield* Effect.fork(whileLeader(config("b"), leaderWork(running, "b")))
      // Many renew periods later, still exactly one leader.
      for (let i = 0; i < 20; i++) {
        yield* TestClock.adjust("2 seconds")
        assert.deepStrictEqual(yield* Ref.get(running), ["a"])
      }
      assert.strictEqual(yield* holder, "a")

      yield* Fiber.interrupt(a)
      assert.strictEqual(yield* holder, "")
      yield* TestClock.adjust("2 seconds")
      assert.deepStrictEqual(yield* Ref.get(running), ["b"])
      assert.strictEqual(yield* holder, "b")
      yield* Fiber.interrupt(b)
    }).pipe(Effect.provide(MemoryKube.layer)))

  it.effect("a holder that stopped renewing keeps the lease for leaseDuration, then loses it", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* setup
      // A crashed replica's lease: nobody renews it any more.
      yield* kube.create(leasesGvr, {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "ark-server", namespace },
        spec: { holderIdentity: "crashed", leaseDurationSeconds: 15 }
      })
      const running = yield* Ref.make<ReadonlyArray<string>>([])
      const b = yield* Effect.fork(whileLeader(config("b"), leaderWork(running, "b")))
      yield* TestClock.adjust("12 seconds")
      assert.deepStrictEqual(yield* Ref.get(running), [])
      yield* TestClock.adjust("6 seconds")
      assert.deepStrictEqual(yield* Ref.get(running), ["b"])
      const lease = yield* kube.get(leasesGvr, "ark-server", namespace)
      assert.deepInclude(lease["spec"] as object, { holderIdentity: "b", leaseTransitions: 1 })
      yield* Fiber.interrupt(b)
    }).pipe(Effect.provide(MemoryKube.layer)))

  it.effect("a leader whose lease is taken stops its work within renewDeadline", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* setup
      const running = yield* Ref.make<ReadonlyArray<string>>([])
      const a = yield* Effect.fork(whileLeader(config("a"), leaderWork(running, "a")))
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* Ref.get(running), ["a"])
      // Somebody else writes the lease and keeps it fresh.
      const steal = Effect.gen(function*() {
        const lease = yield* kube.get(leasesGvr, "ark-server", namespace)
        yield* kube.update(leasesGvr, { ...lease, spec: { ...(lease["spec"] as object), holderIdentity: "intruder" } })
      })
      yield* steal
      for (let i = 0; i < 6; i++) {
        yield* TestClock.adjust("2 seconds")
        yield* steal
      }
      const exit = yield* Fiber.await(a)
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "lost the leader lease")
      assert.deepStrictEqual(yield* Ref.get(running), [])
      assert.strictEqual(yield* holder, "intruder")
    }).pipe(Effect.provide(MemoryKube.layer)))
})
