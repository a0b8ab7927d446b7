// The schedule handlers on the in-memory API server: create (and its bad input), get, describe,
// pause/unpause, delete, and a CLI-made schedule run by the real controller.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Stream, TestClock } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { createBackup } from "../../src/cli/backup/create.ts"
import { noBackupFlags } from "../../src/cli/backup/spec.ts"
import type { CreateArgs } from "../../src/cli/schedule/create.ts"
import { createSchedule } from "../../src/cli/schedule/create.ts"
import { deleteSchedule } from "../../src/cli/schedule/delete.ts"
import { pauseSchedule, unpauseSchedule } from "../../src/cli/schedule/pause.ts"
import { describeScheduleCommand, getSchedules } from "../../src/cli/schedule/read.ts"
import * as ScheduleController from "../../src/server/controllers/schedule.ts"
import type { Harness, HarnessOptions } from "./harness.ts"
import { backupsGvr, cliFailure, locationsGvr, makeHarness, run, schedulesGvr, serverNamespace } from "./harness.ts"

const createArgs = (overrides: Partial<CreateArgs> = {}): CreateArgs => ({
  ...noBackupFlags,
  name: "nightly",
  namespace: serverNamespace,
  schedule: "0 */6 * * *",
  paused: false,
  skipImmediately: false,
  labels: [],
  annotations: [],
  ...overrides
})

const withHarness = <A, E, R>(options: HarnessOptions, body: (harness: Harness) => Effect.Effect<A, E, R>) =>
  makeHarness(options).pipe(Effect.flatMap((harness) => body(harness)))

const getSchedule = (harness: Harness, name = "nightly") => harness.kube.get(schedulesGvr, name, serverNamespace)

const scheduleSpec = (harness: Harness, name = "nightly") =>
  getSchedule(harness, name).pipe(Effect.map((object) => object["spec"] as Record<string, unknown>))

const noSchedules = (harness: Harness) =>
  harness.kube.listPages(schedulesGvr, { namespace: serverNamespace }).pipe(
    Stream.runCollect,
    Effect.map((pages) => [...pages].every((page) => page.items.length === 0))
  )

const setStatus = (harness: Harness, status: Record<string, unknown>, name = "nightly") =>
  harness.kube.patchStatus(schedulesGvr, name, { type: "merge", body: { status } }, serverNamespace)

/** A backup as the schedule controller creates it, then moved to `phase` as the backup controller would. */
const seedScheduledBackup = (harness: Harness, name: string, schedule: string, phase: string) =>
  harness.kube.create(backupsGvr, {
    apiVersion: "ark.heptio.com/v1",
    kind: "Backup",
    metadata: {
      name,
      namespace: serverNamespace,
      labels: { "ark.heptio.com/schedule-name": schedule, "ark-schedule": schedule }
    },
    spec: {}
  }).pipe(
    Effect.zipRight(
      harness.kube.patchStatus(backupsGvr, name, { type: "merge", body: { status: { phase } } }, serverNamespace)
    )
  )

describe("ark schedule create", () => {
  it.effect("submits the cron and the backup template of the flags, defaults written out", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* harness.kube.create(locationsGvr, {
          apiVersion: "ark.heptio.com/v1",
          kind: "BackupStorageLocation",
          metadata: { name: "minio", namespace: serverNamespace },
          spec: { provider: "aws", objectStorage: { bucket: "ark" } }
        })
        yield* run(
          harness,
          createSchedule(createArgs({
            schedule: " 0 */6 * * * ",
            includeNamespaces: ["shop"],
            selector: Option.some("app=web"),
            ttl: Option.some("72h"),
            storageLocation: Option.some("minio"),
            orderedResources: Option.some("pods=shop/db-0,shop/db-1;persistentvolumes=pv-0")
          }))
        )
        const object = yield* getSchedule(harness)
        assert.deepStrictEqual(object["spec"], {
          schedule: "0 */6 * * *",
          template: {
            includedNamespaces: ["shop"],
            includedResources: ["*"],
            labelSelector: { matchLabels: { app: "web" } },
            snapshotVolumes: true,
            ttl: "72h",
            storageLocation: "minio",
            orderedResources: { pods: "shop/db-0,shop/db-1", persistentvolumes: "pv-0" }
          }
        })
        assert.isUndefined(object["status"])
        assert.strictEqual(
          harness.stdout[0],
          "Schedule \"nightly\" created successfully. Its first backup runs as soon as the Ark server sees it."
        )
      })))

  it.effect("a bad cron is one line with a hint, and nothing is created", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const seconds = yield* cliFailure(run(harness, createSchedule(createArgs({ schedule: "0 0 */6 * * *" }))))
        assert.strictEqual(
          seconds.message,
          "invalid --schedule \"0 0 */6 * * *\": expected 5 fields (minute hour day-of-month month day-of-week), got 6: a seconds field is not supported"
        )
        assert.include(seconds.hint ?? "", "@every 6h")
        const garbage = yield* cliFailure(run(harness, createSchedule(createArgs({ schedule: "every day at noon" }))))
        assert.strictEqual(garbage.message.split("\n").length, 1)
        assert.match(garbage.message, /^invalid --schedule "every day at noon": /)
        const zero = yield* cliFailure(run(harness, createSchedule(createArgs({ schedule: "@every 0s" }))))
        assert.strictEqual(
          zero.message,
          "invalid --schedule \"@every 0s\": @every needs a positive duration, got \"0s\""
        )
        const ttl = yield* cliFailure(run(harness, createSchedule(createArgs({ ttl: Option.some("30d") }))))
        assert.include(ttl.message, "invalid --ttl \"30d\"")
        const name = yield* cliFailure(run(harness, createSchedule(createArgs({ name: "Nightly_Backup" }))))
        assert.include(name.message, "invalid schedule name \"Nightly_Backup\"")
        const long = yield* cliFailure(run(harness, createSchedule(createArgs({ name: "n".repeat(239) }))))
        assert.include(long.message, "at most 238 characters")
        const location = yield* cliFailure(
          run(harness, createSchedule(createArgs({ storageLocation: Option.some("nowhere") })))
        )
        assert.include(location.message, "--storage-location nowhere: backup storage location \"nowhere\" not found")
        const order = yield* cliFailure(
          run(harness, createSchedule(createArgs({ orderedResources: Option.some("pods=shop/db-0;gizmos=a") })))
        )
        assert.strictEqual(order.message, "--ordered-resources: unknown resource \"gizmos\"; nothing was created")
        const scope = yield* cliFailure(
          run(harness, createSchedule(createArgs({ orderedResources: Option.some("persistentvolumes=ns/pv") })))
        )
        assert.include(scope.message, "\"ns/pv\" of persistentvolumes must be a name alone")
        const label = yield* cliFailure(run(harness, createSchedule(createArgs({ labels: ["team"] }))))
        assert.strictEqual(label.message, "--labels: \"team\" is not key=value")
        const annotation = yield* cliFailure(run(harness, createSchedule(createArgs({ annotations: ["a b=c"] }))))
        assert.match(annotation.message, /^--annotations: /)
        assert.isTrue(yield* noSchedules(harness))
        assert.deepStrictEqual(harness.stdout, [])
      })))

  it.effect("@every and descriptors are accepted; an existing name is refused", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* run(harness, createSchedule(createArgs({ name: "often", schedule: "@every 90m" })))
        yield* run(harness, createSchedule(createArgs({ name: "daily", schedule: "@daily" })))
        assert.strictEqual((yield* scheduleSpec(harness, "often"))["schedule"], "@every 90m")
        assert.strictEqual((yield* scheduleSpec(harness, "daily"))["schedule"], "@daily")
        const again = yield* cliFailure(run(harness, createSchedule(createArgs({ name: "daily", schedule: "@daily" }))))
        assert.strictEqual(again.message, `schedule "daily" already exists in namespace ${serverNamespace}`)
      })))
})

describe("ark schedule get / describe", () => {
  it.effect("a Velero-style table; -o json and yaml print the resources", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* run(
          harness,
          getSchedules({ names: [], selector: Option.none(), namespace: serverNamespace, output: "table" })
        )
        assert.deepStrictEqual(harness.stdout, [`No schedules found in namespace ${serverNamespace}.`])
        harness.stdout.length = 0

        yield* TestClock.setTime(Date.parse("2024-05-01T12:00:00Z"))
        yield* run(harness, createSchedule(createArgs({ selector: Option.some("app=web") })))
        yield* run(
          harness,
          createSchedule(createArgs({ name: "weekly", schedule: "@weekly", ttl: Option.some("2160h") }))
        )
        yield* setStatus(harness, { phase: "Enabled", lastBackup: "2024-05-01T12:00:00Z" })
        yield* harness.kube.patch(
          schedulesGvr,
          "weekly",
          { type: "merge", body: { spec: { paused: true } } },
          serverNamespace
        )
        yield* TestClock.adjust("3 hours")
        harness.stdout.length = 0

        yield* run(
          harness,
          getSchedules({ names: [], selector: Option.none(), namespace: serverNamespace, output: "table" })
        )
        assert.deepStrictEqual(harness.stdout, [
          "NAME      STATUS    CREATED                         SCHEDULE      BACKUP TTL   LAST BACKUP   SELECTOR   PAUSED",
          "nightly   Enabled   2024-05-01 12:00:00 +0000 UTC   0 */6 * * *   720h         3h ago        app=web    false",
          "weekly    New       2024-05-01 12:00:00 +0000 UTC   @weekly       2160h        n/a           <none>     true"
        ])
        harness.stdout.length = 0

        yield* run(
          harness,
          getSchedules({ names: ["weekly"], selector: Option.none(), namespace: serverNamespace, output: "json" })
        )
        const printed = JSON.parse(harness.stdout.join("\n"))
        assert.strictEqual(printed.kind, "Schedule")
        assert.strictEqual(printed.spec.schedule, "@weekly")
        harness.stdout.length = 0
        yield* run(
          harness,
          getSchedules({ names: [], selector: Option.none(), namespace: serverNamespace, output: "yaml" })
        )
        assert.include(harness.stdout, "kind: List")

        const missing = yield* cliFailure(
          run(
            harness,
            getSchedules({ names: ["hourly"], selector: Option.none(), namespace: serverNamespace, output: "table" })
          )
        )
        assert.strictEqual(missing.message, `schedule "hourly" not found in namespace ${serverNamespace}`)
        assert.strictEqual(missing.hint, "ark schedule get lists them")
      })))

  it.effect("describe shows the template, the last and next backup, and the newest backup", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.parse("2024-05-01T12:00:00Z"))
        yield* run(harness, createSchedule(createArgs({ includeNamespaces: ["shop"] })))
        yield* setStatus(harness, { phase: "Enabled", lastBackup: "2024-05-01T12:00:00Z" })
        yield* seedScheduledBackup(harness, "nightly-20240501120000", "nightly", "Completed")
        yield* seedScheduledBackup(harness, "other-20240501120000", "other", "Completed")
        yield* TestClock.adjust("1 hour")
        yield* seedScheduledBackup(harness, "nightly-manual", "nightly", "InProgress")
        harness.stdout.length = 0
        yield* run(harness, describeScheduleCommand({ name: "nightly", namespace: serverNamespace }))
        for (
          const line of [
            "Phase:  Enabled",
            "Paused:  false",
            "Schedule:  0 */6 * * * (UTC)",
            "    Included:  shop",
            "  TTL:                        720h (30d)",
            "Last Backup:  2024-05-01 12:00:00 +0000 UTC (1h ago)",
            "Next Backup:  2024-05-01 18:00:00 +0000 UTC (5h)",
            "Backups:  2 (newest: nightly-manual, InProgress)"
          ]
        ) {
          assert.include(harness.stdout, line, harness.stdout.join("\n"))
        }

        yield* setStatus(harness, { phase: "FailedValidation", validationErrors: ["spec.schedule: invalid schedule"] })
        harness.stdout.length = 0
        yield* run(harness, describeScheduleCommand({ name: "nightly", namespace: serverNamespace }))
        assert.include(harness.stdout, "  - spec.schedule: invalid schedule")
        assert.include(harness.stdout, "Next Backup:  <none: the schedule failed validation>")
      })))
})

describe("ark schedule pause / unpause / delete", () => {
  it.effect("pause and unpause flip spec.paused; saying it twice is harmless", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* run(harness, createSchedule(createArgs()))
        yield* run(harness, pauseSchedule({ name: "nightly", namespace: serverNamespace }))
        assert.strictEqual((yield* scheduleSpec(harness))["paused"], true)
        yield* run(harness, pauseSchedule({ name: "nightly", namespace: serverNamespace }))
        assert.include(harness.stdout, "Schedule \"nightly\" is already paused.")
        yield* run(harness, unpauseSchedule({ name: "nightly", namespace: serverNamespace }))
        assert.strictEqual((yield* scheduleSpec(harness))["paused"], false)
        assert.strictEqual((yield* scheduleSpec(harness))["schedule"], "0 */6 * * *", "the rest of the spec is kept")
        const missing = yield* cliFailure(run(harness, pauseSchedule({ name: "hourly", namespace: serverNamespace })))
        assert.strictEqual(missing.message, `schedule "hourly" not found in namespace ${serverNamespace}`)
      })))

  it.effect("delete removes the schedule and keeps its backups; without a terminal it needs --confirm", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* run(harness, createSchedule(createArgs()))
        yield* seedScheduledBackup(harness, "nightly-20240501120000", "nightly", "Completed")
        const refused = yield* cliFailure(
          run(harness, deleteSchedule({ name: "nightly", namespace: serverNamespace, confirm: false }))
        )
        assert.strictEqual(refused.hint, "pass --confirm to delete non-interactively")
        yield* getSchedule(harness)
        yield* run(harness, deleteSchedule({ name: "nightly", namespace: serverNamespace, confirm: true }))
        assert.strictEqual((yield* Effect.flip(getSchedule(harness)))._tag, "KubeNotFound")
        yield* harness.kube.get(backupsGvr, "nightly-20240501120000", serverNamespace)
      })))
})

describe("a schedule made by the CLI", () => {
  it.scoped("is run by the controller, and backup create --from-schedule makes the same kind of backup", () =>
    // --labels and --annotations go on the Schedule, and every backup of it inherits them (as in Velero).
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.parse("2024-05-01T12:00:00Z"))
        yield* Layer.build(ScheduleController.layer({ namespace: serverNamespace, syncPeriod: "1 minute" })).pipe(
          Effect.provideService(KubeClient, harness.kube)
        )
        yield* run(
          harness,
          createSchedule(createArgs({
            includeNamespaces: ["shop"],
            labels: ["team=shop", "tier=web"],
            annotations: ["owner=alice"]
          }))
        )
        const schedule = yield* getSchedule(harness)
        assert.deepStrictEqual(schedule.metadata.labels, { team: "shop", tier: "web" })
        assert.deepStrictEqual(schedule.metadata.annotations, { owner: "alice" })
        let scheduled = Option.none<KubeObject>()
        for (let i = 0; i < 5_000 && Option.isNone(scheduled); i++) {
          scheduled = yield* harness.kube.get(backupsGvr, "nightly-20240501120000", serverNamespace).pipe(Effect.option)
          yield* Effect.yieldNow()
        }
        if (Option.isNone(scheduled)) return assert.fail("the controller made no backup")

        yield* run(
          harness,
          createBackup({
            ...noBackupFlags,
            labels: [],
            annotations: [],
            name: "nightly-manual",
            namespace: serverNamespace,
            fromSchedule: Option.some("nightly"),
            wait: false
          })
        )
        const manual = yield* harness.kube.get(backupsGvr, "nightly-manual", serverNamespace)
        assert.deepStrictEqual(manual["spec"], scheduled.value["spec"])
        assert.deepStrictEqual(manual.metadata.labels, scheduled.value.metadata.labels)
        assert.deepStrictEqual(manual.metadata.labels, {
          team: "shop",
          tier: "web",
          "ark.heptio.com/schedule-name": "nightly",
          "ark-schedule": "nightly"
        })
        assert.deepStrictEqual(scheduled.value.metadata.annotations, { owner: "alice" })
        assert.deepStrictEqual(manual.metadata.annotations, { owner: "alice" })
      })))
})
