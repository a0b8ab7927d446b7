import { Schema } from "effect"

import { BackupSpec } from "./backup.ts"
import { optional, resource, Timestamp } from "./common.ts"

export const ScheduleSpec = Schema.Struct({
  schedule: Schema.propertySignature(Schema.String).annotations({
    description: "Cron: 5-field standard syntax, @hourly/@daily/@weekly/@monthly/@yearly, or @every <duration>."
  }),
  template: Schema.propertySignature(BackupSpec).annotations({
    description: "The spec of every Backup this schedule creates."
  }),
  paused: optional(Schema.Boolean),
  skipImmediately: optional(Schema.Boolean).annotations({
    description: "Skip the backup that is due at once (on creation, or on unpause) and wait for the next " +
      "cron time; the server records the skip in status.lastSkipped and sets this back to false."
  })
})
export type ScheduleSpec = typeof ScheduleSpec.Type

export const SchedulePhase = Schema.Literal("New", "Enabled", "FailedValidation")
export type SchedulePhase = typeof SchedulePhase.Type

export const ScheduleStatus = Schema.Struct({
  phase: optional(SchedulePhase),
  validationErrors: optional(Schema.Array(Schema.String)),
  lastBackup: optional(Timestamp).annotations({ description: "When the last backup of this schedule was created." }),
  lastSkipped: optional(Timestamp).annotations({
    description: "When a due backup was last skipped because of spec.skipImmediately."
  })
})
export type ScheduleStatus = typeof ScheduleStatus.Type

export const Schedule = resource("Schedule", ScheduleSpec, ScheduleStatus)
export type Schedule = typeof Schedule.Type
