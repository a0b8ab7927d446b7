import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { notYetDelivered } from "../errors.ts"
import { backupSpec, connection, output } from "../options.ts"

const name = Args.text({ name: "NAME" }).pipe(Args.withDescription("the schedule's name"))

const create = Command.make(
  "create",
  {
    name,
    ...connection,
    schedule: Options.text("schedule").pipe(
      Options.withDescription('when to back up: a cron expression ("0 */6 * * *"), @daily and friends, or "@every 6h"')
    ),
    ...backupSpec
  },
  () => Effect.fail(notYetDelivered("ark schedule create", "schedules"))
).pipe(Command.withDescription("Back up on a schedule; the first backup runs at once"))

const get = Command.make(
  "get",
  { name: Args.text({ name: "NAME" }).pipe(Args.optional), ...connection, output },
  () => Effect.fail(notYetDelivered("ark schedule get", "schedules"))
).pipe(Command.withDescription("List schedules, or show one"))

/** describe, delete, pause and unpause take a name and nothing else. */
const byName = (verb: string, description: string) =>
  Command.make(verb, { name, ...connection }, () =>
    Effect.fail(notYetDelivered(`ark schedule ${verb}`, "schedules"))
  ).pipe(Command.withDescription(description))

export const scheduleCommand = Command.make("schedule").pipe(
  Command.withDescription("Work with scheduled backups"),
  Command.withSubcommands([
    create,
    get,
    byName("describe", "Show a schedule and its last backup"),
    byName("delete", "Delete a schedule (its backups stay until they expire)"),
    byName("pause", "Stop creating backups from a schedule"),
    byName("unpause", "Resume a paused schedule")
  ])
)
