import { Args, Command, Options } from "@effect/cli"

import { lazily } from "../lazy.ts"
import { mapOption } from "../mapFlag.ts"
import { backupSpec, confirm, connection, outputFlags } from "../options.ts"
import { allFlag, namesArg, selectorFlag } from "../selection.ts"
import { withCluster } from "../wiring.ts"

/** Velero's --skip-immediately: the backup due at once is skipped; the first runs at the next cron time. */
const skipImmediately = Options.boolean("skip-immediately").pipe(
  Options.withDescription("skip the backup that would run at once; the first runs at the schedule's next time")
)

const name = Args.text({ name: "NAME" }).pipe(Args.withDescription("the schedule's name"))

const create = Command.make(
  "create",
  {
    name,
    ...connection,
    schedule: Options.text("schedule").pipe(
      Options.withDescription(
        "when to back up, in UTC: a cron expression (\"0 */6 * * *\"), @hourly/@daily/@weekly/@monthly/@yearly, or \"@every 6h\""
      )
    ),
    ...backupSpec,
    labels: mapOption("labels", "labels to put on the Schedule, and on each backup it creates, k=v[,k=v]"),
    annotations: mapOption(
      "annotations",
      "annotations to put on the Schedule, and on each backup it creates, k=v[,k=v]"
    ),
    paused: Options.boolean("paused").pipe(
      Options.withDescription("create the schedule paused: no backups until `ark schedule unpause`")
    ),
    skipImmediately
  },
  (args) => lazily(() => import("../schedule/create.ts"), (m) => m.createSchedule(args))
).pipe(
  Command.withDescription("Back up on a schedule; the first backup runs at once (unless --skip-immediately)"),
  withCluster
)

const get = Command.make(
  "get",
  { names: namesArg("schedule"), selector: selectorFlag, ...connection, ...outputFlags },
  (args) => lazily(() => import("../schedule/read.ts"), (m) => m.getSchedules(args))
).pipe(Command.withDescription("List schedules: all, the ones named, or those -l selects"), withCluster)

const describe = Command.make(
  "describe",
  { name, ...connection },
  (args) => lazily(() => import("../schedule/read.ts"), (m) => m.describeScheduleCommand(args))
).pipe(
  Command.withDescription("Show a schedule, its backup template, and its last and next backup"),
  withCluster
)

const remove = Command.make(
  "delete",
  {
    names: namesArg("schedule"),
    selector: selectorFlag,
    all: allFlag,
    ...connection,
    confirm
  },
  (args) => lazily(() => import("../schedule/delete.ts"), (m) => m.deleteSchedules(args))
).pipe(Command.withDescription("Delete a schedule (its backups stay until they expire)"), withCluster)

const pause = Command.make(
  "pause",
  { name, ...connection },
  (args) => lazily(() => import("../schedule/pause.ts"), (m) => m.pauseSchedule(args))
).pipe(
  Command.withDescription("Stop creating backups from a schedule"),
  withCluster
)

const unpause = Command.make(
  "unpause",
  { name, ...connection, skipImmediately },
  (args) => lazily(() => import("../schedule/pause.ts"), (m) => m.unpauseSchedule(args))
).pipe(
  Command.withDescription("Resume a paused schedule"),
  withCluster
)

export const scheduleCommand = Command.make("schedule").pipe(
  Command.withDescription("Work with scheduled backups"),
  Command.withSubcommands([create, get, describe, remove, pause, unpause])
)
