// The backup a schedule creates, and what makes a Schedule fail validation.
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import type { Schedule } from "../../src/api/index.ts"
import {
  nameTimestamp,
  scheduledBackup,
  scheduledBackupName,
  tickOfScheduledBackup
} from "../../src/schedule/backup.ts"
import { validateSchedule } from "../../src/schedule/validate.ts"

const template = {
  includedNamespaces: ["shop"],
  includedResources: ["*"],
  labelSelector: { matchLabels: { app: "web" } },
  snapshotVolumes: false,
  ttl: "24h",
  storageLocation: "default"
}

const scheduleObject = (spec: Record<string, unknown>, name = "nightly"): KubeObject => ({
  apiVersion: "ark.heptio.com/v1",
  kind: "Schedule",
  metadata: { name, namespace: "heptio-ark", uid: "u-1" },
  spec
})

describe("scheduled backups", () => {
  it("are named <schedule>-<YYYYMMDDhhmmss> in UTC", () => {
    assert.strictEqual(nameTimestamp(Date.parse("2024-05-01T02:03:04.999Z")), "20240501020304")
    assert.strictEqual(scheduledBackupName("nightly", Date.parse("2024-12-31T23:59:59Z")), "nightly-20241231235959")
    assert.strictEqual(scheduledBackupName("a", 0), "a-19700101000000")
  })

  it("carry the template as their spec and both schedule labels", () => {
    const schedule: Schedule = {
      apiVersion: "ark.heptio.com/v1",
      kind: "Schedule",
      metadata: { name: "nightly", namespace: "heptio-ark" },
      spec: { schedule: "@daily", template }
    }
    assert.deepStrictEqual(scheduledBackup(schedule, "heptio-ark", Date.parse("2024-05-01T00:00:00Z")), {
      apiVersion: "ark.heptio.com/v1",
      kind: "Backup",
      metadata: {
        name: "nightly-20240501000000",
        namespace: "heptio-ark",
        labels: { "ark.heptio.com/schedule-name": "nightly", "ark-schedule": "nightly" }
      },
      spec: template
    })
  })

  it("inherit the schedule's labels and annotations; the schedule-name labels win", () => {
    const schedule: Schedule = {
      apiVersion: "ark.heptio.com/v1",
      kind: "Schedule",
      metadata: {
        name: "nightly",
        namespace: "heptio-ark",
        labels: { team: "shop", "ark-schedule": "other" },
        annotations: { owner: "alice" }
      },
      spec: { schedule: "@daily", template }
    }
    const backup = scheduledBackup(schedule, "heptio-ark", Date.parse("2024-05-01T00:00:00Z"))
    assert.deepStrictEqual(backup.metadata.labels, {
      team: "shop",
      "ark-schedule": "nightly",
      "ark.heptio.com/schedule-name": "nightly"
    })
    assert.deepStrictEqual(backup.metadata.annotations, { owner: "alice" })
  })
})

describe("validateSchedule", () => {
  it("accepts a valid schedule and fills the template's defaults", () => {
    const valid = validateSchedule(scheduleObject({ schedule: "@every 90m", template: {} }))
    assert.isTrue(Either.isRight(valid))
    if (Either.isRight(valid)) {
      assert.strictEqual(valid.right.cron._tag, "Every")
      assert.strictEqual(valid.right.schedule.spec.template.ttl, "720h")
    }
  })

  it("lists every problem: the cron with the parser's message, the ttl, selectors, the name", () => {
    const problems = validateSchedule(scheduleObject({ schedule: "0 0 * * * *", template: { ttl: "3 days" } }))
    assert.deepStrictEqual(Either.getLeft(problems)._tag, "Some")
    const lines = Either.isLeft(problems) ? problems.left : []
    assert.include(
      lines,
      "spec.schedule: invalid schedule \"0 0 * * * *\": expected 5 fields (minute hour day-of-month month day-of-week), got 6: a seconds field is not supported"
    )
    assert.isTrue(lines.some((line) => line.startsWith("spec.template.ttl: ")), lines.join("\n"))

    const selectors = validateSchedule(scheduleObject({
      schedule: "@daily",
      template: { labelSelector: { matchLabels: { "bad key!": "x" } }, orLabelSelectors: [{ matchLabels: { a: "b" } }] }
    }))
    const selectorLines = Either.isLeft(selectors) ? selectors.left : []
    assert.include(
      selectorLines,
      "spec.template: labelSelector and orLabelSelectors are mutually exclusive: set only one"
    )
    assert.isTrue(
      selectorLines.some((line) => line.startsWith("spec.template.labelSelector: ")),
      selectorLines.join("\n")
    )

    // Its backups are named <schedule>-<YYYYMMDDhhmmss>: 238 characters leave them valid names.
    assert.isTrue(
      Either.isRight(validateSchedule(scheduleObject({ schedule: "@daily", template: {} }, "x".repeat(238))))
    )
    const long = validateSchedule(scheduleObject({ schedule: "@daily", template: {} }, "x".repeat(239)))
    assert.isTrue(
      Either.isLeft(long) && long.left.some((line) => line.startsWith("metadata.name: at most 238 characters"))
    )
  })
})

describe("tickOfScheduledBackup", () => {
  it("reads the tick back from a scheduled backup's name, and nothing from other names", () => {
    const tick = Date.parse("2024-02-29T23:59:58Z")
    assert.strictEqual(tickOfScheduledBackup("nightly", scheduledBackupName("nightly", tick)), tick)
    assert.strictEqual(tickOfScheduledBackup("a-b", "a-b-20240501000000"), Date.parse("2024-05-01T00:00:00Z"))
    for (
      const name of [
        "nightly",
        "nightly-2024050100000",
        "nightly-20241301000000",
        "nightly-20240501250000",
        "other-20240501000000",
        "nightly-adhoc"
      ]
    ) {
      assert.isUndefined(tickOfScheduledBackup("nightly", name), name)
    }
  })
})
