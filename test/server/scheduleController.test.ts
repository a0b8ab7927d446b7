// The schedule controller over the fake API server, on the TestClock: the first backup at once,
// then one per cron tick with exact names and labels, one catch-up after downtime, pause/unpause,
// FailedValidation, and one schedule's failures kept away from another's.
import { assert, describe, it } from "@effect/vitest"
import type { Duration } from "effect"
import { Chunk, Effect, Exit, Layer, Option, Ref, Scope, Stream, TestClock } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { scheduleMarkers, withMarkers } from "../../src/api/index.ts"
import * as ScheduleController from "../../src/server/controllers/schedule.ts"
import { scheduleIntervals } from "../../src/server/metrics.ts"
import { backups, gvr, installArk, serverNamespace, statusOf } from "./fixtures.ts"

const schedules = gvr("schedules")
const at = (iso: string) => Date.parse(iso)

const template = {
  includedNamespaces: ["shop"],
  includedResources: ["*"],
  snapshotVolumes: false,
  ttl: "24h",
  storageLocation: "default"
}

const schedule = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "ark.heptio.com/v1",
  kind: "Schedule",
  metadata: { name, namespace: serverNamespace },
  spec: { template, ...spec }
})

/** Starts the controller in its own scope, so a test can stop it (a server outage) and start it again. */
const startController = (syncPeriod: Duration.DurationInput = "1 hour") =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    yield* Layer.buildWithScope(ScheduleController.layer({ namespace: serverNamespace, syncPeriod }), scope)
    return scope
  })

/**
 * Lets the fibers run until `check` holds. Nothing here waits on time: the controller only moves
 * when the TestClock does, so a bounded number of yields is the deadline.
 */
const settle = <A, E, R>(what: string, check: Effect.Effect<Option.Option<A>, E, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 5_000; i++) {
      const found = yield* check
      if (Option.isSome(found)) return found.value
      yield* Effect.yieldNow()
    }
    return yield* Effect.dieMessage(`never happened: ${what}`)
  })

/** Lets the fibers run until nothing changes any more; for asserting that something did NOT happen. */
const quiesce = Effect.repeatN(Effect.yieldNow(), 500)

/** Waits until the controller sleeps until `iso`: then TestClock.adjust wakes it exactly there. */
const asleepUntil = (iso: string) =>
  settle(
    `a sleep until ${iso}`,
    TestClock.sleeps().pipe(
      Effect.map((wakeups) => Chunk.some(wakeups, (wakeup) => wakeup === at(iso)) ? Option.some(true) : Option.none())
    )
  )

/** Moves the TestClock forward to `iso`. */
const advanceTo = (iso: string) =>
  Effect.gen(function*() {
    const now = yield* TestClock.currentTimeMillis
    yield* TestClock.adjust(at(iso) - now)
  })

const backupObjects = Effect.gen(function*() {
  const kube = yield* KubeClient
  const pages = yield* Stream.runCollect(kube.listPages(backups, { namespace: serverNamespace }))
  return [...pages].flatMap((page) => page.items).sort((a, b) =>
    (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "")
  )
})

const backupNames = backupObjects.pipe(Effect.map((objects) => objects.map((object) => object.metadata.name ?? "")))

/** Waits until the backups are exactly `expected` (by name), then lets the fibers run on and checks again. */
const expectBackups = (...expected: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    yield* settle(
      `backups ${expected.join(", ")}`,
      backupNames.pipe(
        Effect.map((names) => expected.every((name) => names.includes(name)) ? Option.some(names) : Option.none())
      )
    )
    yield* quiesce
    assert.deepStrictEqual(yield* backupNames, [...expected].sort())
  })

const scheduleStatus = (name: string) =>
  Effect.flatMap(KubeClient, (kube) => kube.get(schedules, name, serverNamespace)).pipe(
    Effect.map((object) => statusOf(object))
  )

const waitForScheduleStatus = (name: string, what: string, done: (status: Record<string, unknown>) => boolean) =>
  settle(
    `schedule ${name} ${what}`,
    scheduleStatus(name).pipe(Effect.map((status) => done(status) ? Option.some(status) : Option.none()))
  )

const setPaused = (name: string, paused: boolean) =>
  Effect.flatMap(
    KubeClient,
    (kube) => kube.patch(schedules, name, { type: "merge", body: { spec: { paused } } }, serverNamespace)
  )

describe("schedule controller", () => {
  it.scoped("the first backup runs at once; then one per cron tick, named and labelled exactly", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* TestClock.setTime(at("2024-05-01T12:01:30Z"))
      yield* installArk
      yield* startController()
      yield* kube.create(schedules, schedule("every5", { schedule: "*/5 * * * *" }))

      yield* expectBackups("every5-20240501120130")
      const status = yield* waitForScheduleStatus("every5", "with a last backup", (s) => s["lastBackup"] !== undefined)
      assert.deepStrictEqual(status, { phase: "Enabled", lastBackup: "2024-05-01T12:01:30Z" })
      const [first] = yield* backupObjects
      assert.deepStrictEqual(first?.metadata.labels, {
        "ark.heptio.com/schedule-name": "every5",
        "ark-schedule": "every5"
      })
      assert.deepStrictEqual(first?.["spec"], template)
      assert.isUndefined(first?.["status"], "a new Backup, for the backup controller to run")

      // The next runs are on the cron's ticks, not 5 minutes after the first.
      yield* asleepUntil("2024-05-01T12:05:00Z")
      yield* advanceTo("2024-05-01T12:04:59Z")
      yield* expectBackups("every5-20240501120130")
      yield* advanceTo("2024-05-01T12:05:00Z")
      yield* expectBackups("every5-20240501120130", "every5-20240501120500")
      yield* asleepUntil("2024-05-01T12:10:00Z")
      yield* advanceTo("2024-05-01T12:10:00Z")
      yield* expectBackups("every5-20240501120130", "every5-20240501120500", "every5-20240501121000")
      assert.strictEqual((yield* scheduleStatus("every5"))["lastBackup"], "2024-05-01T12:10:00Z")
      for (const object of yield* backupObjects) {
        assert.deepStrictEqual(object.metadata.labels, {
          "ark.heptio.com/schedule-name": "every5",
          "ark-schedule": "every5"
        })
        assert.deepStrictEqual(object["spec"], template)
      }
    }).pipe(Effect.provide(MemoryKube.layer)))

  it.scoped("after a long outage: exactly one catch-up backup, not one per missed tick", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* TestClock.setTime(at("2024-05-01T00:00:00Z"))
      yield* installArk
      const first = yield* startController()
      yield* kube.create(schedules, schedule("hourly", { schedule: "@hourly" }))
      yield* expectBackups("hourly-20240501000000")
      yield* asleepUntil("2024-05-01T01:00:00Z")

      // The server is down for ten hours and a half: ten ticks are missed.
      yield* Scope.close(first, Exit.void)
      yield* advanceTo("2024-05-01T10:30:00Z")
      yield* expectBackups("hourly-20240501000000")
      yield* startController()
      yield* expectBackups("hourly-20240501000000", "hourly-20240501103000")
      assert.strictEqual((yield* scheduleStatus("hourly"))["lastBackup"], "2024-05-01T10:30:00Z")

      // Then the cron's own ticks again.
      yield* asleepUntil("2024-05-01T11:00:00Z")
      yield* advanceTo("2024-05-01T11:00:00Z")
      yield* expectBackups("hourly-20240501000000", "hourly-20240501103000", "hourly-20240501110000")
    }).pipe(Effect.provide(MemoryKube.layer)))

  it.scoped("a paused schedule backs nothing up; unpaused, it backs up at once, without waiting for a re-read", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* TestClock.setTime(at("2024-05-01T12:00:00Z"))
      yield* installArk
      yield* startController("10 minutes")
      yield* kube.create(schedules, schedule("paused", { schedule: "*/5 * * * *", paused: true }))
      yield* waitForScheduleStatus("paused", "Enabled", (status) => status["phase"] === "Enabled")
      for (const wakeup of ["2024-05-01T12:10:00Z", "2024-05-01T12:20:00Z"]) {
        yield* asleepUntil(wakeup)
        yield* advanceTo(wakeup)
      }
      yield* expectBackups()

      // The fiber sleeps until 12:30 (the sync period); the edit wakes it at 12:20.
      yield* asleepUntil("2024-05-01T12:30:00Z")
      yield* setPaused("paused", false)
      yield* expectBackups("paused-20240501122000")
      yield* asleepUntil("2024-05-01T12:25:00Z")
      yield* advanceTo("2024-05-01T12:25:00Z")
      yield* expectBackups("paused-20240501122000", "paused-20240501122500")

      // Paused again: the tick at 12:30 passes without a backup.
      yield* setPaused("paused", true)
      yield* asleepUntil("2024-05-01T12:35:00Z")
      yield* advanceTo("2024-05-01T12:35:00Z")
      yield* asleepUntil("2024-05-01T12:45:00Z")
      yield* expectBackups("paused-20240501122000", "paused-20240501122500")
    }).pipe(Effect.provide(MemoryKube.layer)))

  it.scoped("skipImmediately: no backup at creation, the first at the next cron time; the skip is recorded once", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* TestClock.setTime(at("2024-05-01T12:01:30Z"))
      yield* installArk
      yield* startController()
      yield* kube.create(schedules, schedule("later", { schedule: "*/5 * * * *", skipImmediately: true }))

      const status = yield* waitForScheduleStatus("later", "with a skip", (s) => s["lastSkipped"] !== undefined)
      assert.deepStrictEqual(status, { phase: "Enabled", lastSkipped: "2024-05-01T12:01:30Z" })
      const reset = yield* settle(
        "spec.skipImmediately back to false",
        kube.get(schedules, "later", serverNamespace).pipe(
          Effect.map((object) =>
            (object["spec"] as Record<string, unknown>)["skipImmediately"] === false
              ? Option.some(true)
              : Option.none()
          )
        )
      )
      assert.isTrue(reset)
      yield* expectBackups()
      yield* asleepUntil("2024-05-01T12:05:00Z")
      yield* advanceTo("2024-05-01T12:05:00Z")
      yield* expectBackups("later-20240501120500")
      assert.strictEqual((yield* scheduleStatus("later"))["lastSkipped"], "2024-05-01T12:01:30Z")
    }).pipe(Effect.provide(MemoryKube.layer)))

  it.scoped("skipImmediately on a paused schedule is kept for the unpause: the backup due then is skipped", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* TestClock.setTime(at("2024-05-01T12:00:00Z"))
      yield* installArk
      yield* startController("10 minutes")
      yield* kube.create(
        schedules,
        schedule("held", { schedule: "*/5 * * * *", paused: true, skipImmediately: true })
      )
      yield* waitForScheduleStatus("held", "Enabled", (status) => status["phase"] === "Enabled")
      yield* asleepUntil("2024-05-01T12:10:00Z")
      yield* advanceTo("2024-05-01T12:07:00Z")
      assert.isUndefined((yield* scheduleStatus("held"))["lastSkipped"], "paused: nothing is due, nothing skipped")

      // Unpaused at 12:07: the backup due at once is skipped; the next runs at 12:10.
      yield* setPaused("held", false)
      yield* waitForScheduleStatus("held", "with a skip", (s) => s["lastSkipped"] === "2024-05-01T12:07:00Z")
      yield* expectBackups()
      yield* asleepUntil("2024-05-01T12:10:00Z")
      yield* advanceTo("2024-05-01T12:10:00Z")
      yield* expectBackups("held-20240501121000")
    }).pipe(Effect.provide(MemoryKube.layer)))

  it.scoped("an edit while the schedule's fiber waits takes effect at once: a pause, then a new cron", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* TestClock.setTime(at("2024-05-01T12:00:00Z"))
      yield* installArk
      yield* startController("1 hour")
      yield* kube.create(schedules, schedule("edited", { schedule: "*/5 * * * *" }))
      yield* expectBackups("edited-20240501120000")
      yield* asleepUntil("2024-05-01T12:05:00Z")

      // Paused at 12:02 while it waits for 12:05: it re-reads at once and then waits a sync period.
      yield* advanceTo("2024-05-01T12:02:00Z")
      yield* setPaused("edited", true)
      yield* asleepUntil("2024-05-01T13:02:00Z")
      yield* advanceTo("2024-05-01T12:05:00Z")
      yield* expectBackups("edited-20240501120000")

      // Unpaused with an hourly cron at 12:06: the next run is 13:00, not the old 12:10.
      yield* advanceTo("2024-05-01T12:06:00Z")
      yield* kube.patch(
        schedules,
        "edited",
        { type: "merge", body: { spec: { paused: false, schedule: "0 * * * *" } } },
        serverNamespace
      )
      yield* asleepUntil("2024-05-01T13:00:00Z")
      yield* advanceTo("2024-05-01T12:10:00Z")
      yield* expectBackups("edited-20240501120000")
      yield* advanceTo("2024-05-01T13:00:00Z")
      yield* expectBackups("edited-20240501120000", "edited-20240501130000")
    }).pipe(Effect.provide(MemoryKube.layer)))

  it.scoped("an invalid cron is FailedValidation with the parser's message; a 6-field cron too; @every 90m works", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* TestClock.setTime(at("2024-05-01T12:00:00Z"))
      yield* installArk
      yield* startController()
      yield* kube.create(schedules, schedule("garbage", { schedule: "61 * * * *" }))
      yield* kube.create(schedules, schedule("seconds", { schedule: "0 0 * * * *" }))
      yield* kube.create(schedules, schedule("bad-ttl", { schedule: "@daily", template: { ttl: "3 days" } }))
      yield* kube.create(schedules, schedule("every90", { schedule: "@every 90m" }))

      const failed = (name: string) =>
        waitForScheduleStatus(name, "FailedValidation", (status) => status["phase"] === "FailedValidation").pipe(
          Effect.map((status) => status["validationErrors"] as ReadonlyArray<string>)
        )
      assert.deepStrictEqual(yield* failed("garbage"), [
        "spec.schedule: invalid schedule \"61 * * * *\": Constraint error, got value 61 expected range 0-59"
      ])
      assert.deepStrictEqual(yield* failed("seconds"), [
        "spec.schedule: invalid schedule \"0 0 * * * *\": expected 5 fields (minute hour day-of-month month day-of-week), got 6: a seconds field is not supported"
      ])
      const ttl = yield* failed("bad-ttl")
      assert.strictEqual(ttl.length, 1)
      assert.match(ttl[0] ?? "", /^spec\.template\.ttl: expected a Go duration/)

      yield* expectBackups("every90-20240501120000")
      yield* asleepUntil("2024-05-01T13:00:00Z")
      yield* advanceTo("2024-05-01T13:00:00Z")
      yield* asleepUntil("2024-05-01T13:30:00Z")
      yield* advanceTo("2024-05-01T13:30:00Z")
      yield* expectBackups("every90-20240501120000", "every90-20240501133000")

      // Fixing the cron is picked up from the edit itself, and the first backup runs at once.
      yield* kube.patch(
        schedules,
        "garbage",
        { type: "merge", body: { spec: { schedule: "@daily" } } },
        serverNamespace
      )
      const fixed = yield* waitForScheduleStatus(
        "garbage",
        "Enabled with a last backup",
        (s) => s["lastBackup"] !== undefined
      )
      assert.deepStrictEqual(fixed, { phase: "Enabled", lastBackup: "2024-05-01T13:30:00Z" })
      yield* expectBackups("every90-20240501120000", "every90-20240501133000", "garbage-20240501133000")
    }).pipe(Effect.provide(MemoryKube.layer)))

  it.scoped("a schedule whose backups cannot be created retries on its own; the others keep their ticks", () =>
    Effect.flatMap(Ref.make(true), (broken) =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        yield* TestClock.setTime(at("2024-05-01T12:00:00Z"))
        yield* installArk
        yield* startController("10 minutes")
        yield* kube.create(schedules, schedule("doomed", { schedule: "@daily" }))
        yield* kube.create(schedules, schedule("healthy", { schedule: "*/5 * * * *" }))
        yield* expectBackups("healthy-20240501120000")
        for (const tick of ["2024-05-01T12:05:00Z", "2024-05-01T12:10:00Z"]) {
          yield* asleepUntil(tick)
          yield* advanceTo(tick)
        }
        yield* expectBackups("healthy-20240501120000", "healthy-20240501120500", "healthy-20240501121000")
        assert.deepStrictEqual(yield* scheduleStatus("doomed"), { phase: "Enabled" })

        // The fault clears: a retry (backing off, at most a sync period apart) makes its one backup.
        yield* Ref.set(broken, false)
        yield* advanceTo("2024-05-01T12:25:00Z")
        yield* settle(
          "a backup of doomed",
          backupNames.pipe(
            Effect.map((all) => all.some((name) => name.startsWith("doomed-")) ? Option.some(all) : Option.none())
          )
        )
        yield* quiesce
        const doomed = (yield* backupNames).filter((name) => name.startsWith("doomed-"))
        assert.strictEqual(doomed.length, 1, doomed.join(", "))
        const lastBackup = (yield* scheduleStatus("doomed"))["lastBackup"]
        assert.strictEqual(doomed[0], `doomed-${String(lastBackup).replace(/[-:TZ]/g, "")}`)
      }).pipe(Effect.provide(faultyKube(broken)))))

  it.scoped("deleting a schedule stops it; its backups stay", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* TestClock.setTime(at("2024-05-01T12:00:00Z"))
      yield* installArk
      yield* startController()
      yield* kube.create(schedules, schedule("short-lived", { schedule: "*/5 * * * *" }))
      yield* expectBackups("short-lived-20240501120000")
      yield* asleepUntil("2024-05-01T12:05:00Z")
      yield* kube.delete(schedules, "short-lived", serverNamespace)
      yield* quiesce
      yield* advanceTo("2024-05-01T13:00:00Z")
      yield* expectBackups("short-lived-20240501120000")
    }).pipe(Effect.provide(MemoryKube.layer)))

  it.scoped("a valid schedule exports its expected interval (Velero's); a deleted one's series goes", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      // The series as /metrics renders it, read back by schedule.
      const intervals = Effect.map(
        scheduleIntervals,
        (family) =>
          new Map(family.series.flatMap(([, lines]) =>
            lines.flatMap((line) => {
              const match = /\{schedule="([^"]*)"\} (\S+)$/.exec(line)
              return match === null ? [] : [[match[1]!, Number(match[2])] as const]
            })
          ))
      )
      yield* TestClock.setTime(at("2024-05-01T12:00:00Z"))
      yield* installArk
      yield* startController()
      yield* kube.create(schedules, schedule("interval-cron", { schedule: "0 */6 * * *" }))
      yield* kube.create(schedules, schedule("interval-every", { schedule: "@every 90m", paused: true }))
      const both = yield* settle(
        "both intervals",
        Effect.map(
          intervals,
          (map) => map.has("interval-cron") && map.has("interval-every") ? Option.some(map) : Option.none()
        )
      )
      assert.strictEqual(both.get("interval-cron"), 6 * 3600)
      assert.strictEqual(both.get("interval-every"), 90 * 60)
      yield* asleepUntil("2024-05-01T13:00:00Z")
      yield* kube.delete(schedules, "interval-cron", serverNamespace)
      yield* advanceTo("2024-05-01T13:00:00Z")
      const after = yield* settle(
        "the deleted schedule's interval gone",
        Effect.map(intervals, (map) => map.has("interval-cron") ? Option.none() : Option.some(map))
      )
      assert.strictEqual(after.get("interval-every"), 90 * 60)
    }).pipe(Effect.provide(MemoryKube.layer)))

  // A long name is labelled by its short form: the controller finds the backup by it all the same.
  for (const name of ["hourly", `hourly-${"h".repeat(113)}`]) {
    it.scoped(
      `a server that crashed after creating a backup but before recording it: the restart takes no extra one (${name.length}-character name)`,
      () =>
        Effect.gen(function*() {
          const kube = yield* KubeClient
          yield* TestClock.setTime(at("2024-05-01T00:00:00Z"))
          yield* installArk
          yield* kube.create(schedules, schedule(name, { schedule: "@hourly" }))
          // What the crashed server left: the tick's backup, and no status.lastBackup.
          yield* kube.create(backups, {
            apiVersion: "ark.heptio.com/v1",
            kind: "Backup",
            metadata: withMarkers(
              { name: `${name}-20240501000000`, namespace: serverNamespace },
              scheduleMarkers(name)
            ),
            spec: template
          })
          yield* advanceTo("2024-05-01T00:20:00Z")
          yield* startController()
          const status = yield* waitForScheduleStatus(name, "with a last backup", (s) => s["lastBackup"] !== undefined)
          assert.strictEqual(status["lastBackup"], "2024-05-01T00:00:00Z")
          yield* expectBackups(`${name}-20240501000000`)
          yield* asleepUntil("2024-05-01T01:00:00Z")
          yield* advanceTo("2024-05-01T01:00:00Z")
          yield* expectBackups(`${name}-20240501000000`, `${name}-20240501010000`)
        }).pipe(Effect.provide(MemoryKube.layer))
    )
  }

  it.scoped("a schedule recreated under an old name still runs its first backup at once", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* TestClock.setTime(at("2024-05-01T00:00:00Z"))
      yield* installArk
      yield* startController()
      yield* kube.create(schedules, schedule("daily", { schedule: "@daily" }))
      yield* expectBackups("daily-20240501000000")
      yield* kube.delete(schedules, "daily", serverNamespace)
      yield* advanceTo("2024-05-01T00:30:00Z")
      yield* kube.create(schedules, schedule("daily", { schedule: "@daily" }))
      yield* expectBackups("daily-20240501000000", "daily-20240501003000")
    }).pipe(Effect.provide(MemoryKube.layer)))
})

/** The fake API server, except that creating a backup of the "doomed" schedule dies while `broken`. */
const faultyKube = (broken: Ref.Ref<boolean>) =>
  Layer.effect(
    KubeClient,
    MemoryKube.make.pipe(Effect.map(({ client }): KubeClient.Shape => ({
      ...client,
      create: (resource, object, options) =>
        Ref.get(broken).pipe(Effect.flatMap((isBroken) =>
          isBroken && (object.metadata.name ?? "").startsWith("doomed-")
            ? Effect.dieMessage("the API server's admission webhook crashed")
            : client.create(resource, object, options)
        ))
    })))
  )
