// The generic supervisor over the fake API server: one fiber per object, failures isolated and
// reported, deletion interrupts, concurrency permits, and the informer's relist after 410 and errors.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Ref } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient, KubeGone, KubeUnavailable } from "../../services/KubeClient.ts"
import type { ReconcileContext } from "../../src/server/supervisor.ts"
import { failureReason, supervise } from "../../src/server/supervisor.ts"
import { waitFor } from "../support/wait.ts"

const configMaps = { group: "", version: "v1", resource: "configmaps" }
const namespace = "work"

const configMap = (name: string, mode: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace },
  data: { mode }
})

const modeOf = (object: KubeObject) => (object["data"] as { mode?: string } | undefined)?.mode ?? ""

/** A supervisor whose work per ConfigMap is chosen by its `mode`, recording what happened. */
const harness = (concurrency: number) =>
  Effect.gen(function*() {
    const events = yield* Ref.make<ReadonlyArray<string>>([])
    const gate = yield* Effect.makeLatch(false)
    const record = (event: string) => Ref.update(events, (all) => [...all, event])
    const work = (object: KubeObject, context: ReconcileContext) => {
      const name = object.metadata.name ?? ""
      switch (modeOf(object)) {
        case "ok":
          return Option.some(record(`done ${name}`))
        case "die":
          return Option.some(Effect.dieMessage(`${name} exploded`))
        case "fail":
          return Option.some(Effect.fail(`${name} refused`))
        case "hang":
          return Option.some(
            context.limited(
              record(`started ${name}`).pipe(
                Effect.zipRight(Effect.never),
                Effect.onInterrupt(() => record(`interrupted ${name}`))
              )
            )
          )
        case "gate":
          return Option.some(
            record(`started ${name}`).pipe(Effect.zipRight(gate.await), Effect.zipRight(record(`released ${name}`)))
          )
        case "await-change":
          return Option.some(
            record(`waiting ${name}`).pipe(Effect.zipRight(context.changed), Effect.zipRight(record(`woke ${name}`)))
          )
        case "limited":
          return Option.some(context.limited(record(`done ${name}`)))
        default:
          return Option.none()
      }
    }
    yield* Effect.forkScoped(supervise({
      name: "test",
      gvr: configMaps,
      namespace,
      concurrency,
      reconcile: work,
      onFailure: (object, cause) => record(`failed ${object.metadata.name ?? ""}: ${failureReason(cause)}`)
    }))
    const waitForEvent = (event: string) =>
      waitFor(
        event,
        Ref.get(events).pipe(Effect.map((all) => all.includes(event) ? Option.some(all) : Option.none())),
        "30 seconds"
      )
    return { events, gate, waitForEvent }
  })

describe("supervisor", () => {
  it.scopedLive(
    "runs each object's work in its own fiber; a defect or failure is reported and isolated",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const control = yield* MemoryKube.MemoryKube
        yield* control.seed([configMap("first", "ok")])
        const { events, waitForEvent } = yield* harness(4)
        yield* waitForEvent("done first")
        yield* kube.create(configMaps, configMap("bomb", "die"))
        yield* kube.create(configMaps, configMap("grumpy", "fail"))
        yield* kube.create(configMaps, configMap("second", "ok"))
        yield* waitForEvent("done second")
        yield* waitForEvent("failed bomb: unexpected error: bomb exploded")
        yield* waitForEvent("failed grumpy: failed: grumpy refused")
        // Work that finished is not run again for the same state; objects nobody needs stay quiet.
        yield* kube.create(configMaps, configMap("idle", "none"))
        yield* kube.create(configMaps, configMap("third", "ok"))
        yield* waitForEvent("done third")
        const all = yield* Ref.get(events)
        assert.strictEqual(all.filter((event) => event === "done first").length, 1)
        assert.isFalse(all.some((event) => event.includes("idle")))
      }).pipe(Effect.provide(MemoryKube.layer)),
    60_000
  )

  it.scopedLive(
    "deleting an object interrupts its fiber; a waiting one then gets the permit",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const control = yield* MemoryKube.MemoryKube
        yield* control.seed([configMap("long", "hang")])
        const { events, waitForEvent } = yield* harness(1)
        yield* waitForEvent("started long")
        yield* kube.create(configMaps, configMap("queued", "limited"))
        // Events are handled in order: once "marker" is done, "queued" has been waiting for the permit.
        yield* kube.create(configMaps, configMap("marker", "ok"))
        yield* waitForEvent("done marker")
        assert.notInclude(yield* Ref.get(events), "done queued")
        yield* kube.delete(configMaps, "long", namespace)
        yield* waitForEvent("interrupted long")
        yield* waitForEvent("done queued")
      }).pipe(Effect.provide(MemoryKube.layer)),
    60_000
  )

  it.scopedLive(
    "an edit that arrives while the object's work runs is reconciled when the work ends, without a relist",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        yield* (yield* MemoryKube.MemoryKube).seed([configMap("edited", "gate")])
        const { events, gate, waitForEvent } = yield* harness(2)
        yield* waitForEvent("started edited")
        // Two edits while it runs: the newest one is what runs next, once.
        yield* kube.patch(configMaps, "edited", { type: "merge", body: { data: { mode: "fail" } } }, namespace)
        yield* kube.patch(configMaps, "edited", { type: "merge", body: { data: { mode: "ok" } } }, namespace)
        yield* gate.open
        yield* waitForEvent("released edited")
        yield* waitForEvent("done edited")
        // A later object is handled after the rerun, so by then a second rerun would have shown.
        yield* kube.create(configMaps, configMap("later", "ok"))
        yield* waitForEvent("done later")
        const all = yield* Ref.get(events)
        assert.strictEqual(all.filter((event) => event === "done edited").length, 1)
        assert.isFalse(all.some((event) => event.startsWith("failed edited")))
      }).pipe(Effect.provide(MemoryKube.layer)),
    60_000
  )

  it.scopedLive(
    "work that waits for a change is woken by an edit, which then is not reconciled again",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        yield* (yield* MemoryKube.MemoryKube).seed([configMap("sleeper", "await-change")])
        const { events, waitForEvent } = yield* harness(2)
        yield* waitForEvent("waiting sleeper")
        yield* kube.patch(
          configMaps,
          "sleeper",
          { type: "merge", body: { metadata: { labels: { poked: "yes" } } } },
          namespace
        )
        yield* waitForEvent("woke sleeper")
        yield* kube.create(configMaps, configMap("later", "ok"))
        yield* waitForEvent("done later")
        assert.strictEqual((yield* Ref.get(events)).filter((event) => event === "waiting sleeper").length, 1)
      }).pipe(Effect.provide(MemoryKube.layer)),
    60_000
  )

  it.scopedLive("a watch that expires (410) relists; a failing list is retried", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      const control = yield* MemoryKube.MemoryKube
      yield* control.seed([configMap("before", "ok")])
      yield* control.failNext(
        "list",
        new KubeUnavailable({ resource: "configmaps", message: "etcd is sad", status: 503 })
      )
      yield* control.failNext("watch", new KubeGone({ resource: "configmaps", message: "too old resource version" }))
      const { waitForEvent } = yield* harness(2)
      yield* waitForEvent("done before")
      yield* kube.create(configMaps, configMap("after", "ok"))
      yield* waitForEvent("done after")
    }).pipe(Effect.provide(MemoryKube.layer)), 60_000)
})
