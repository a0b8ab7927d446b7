import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { notYetDelivered } from "../errors.ts"
import { connection, csv, output, resourceFilters, triState, wait } from "../options.ts"

const name = Args.text({ name: "NAME" }).pipe(Args.withDescription("the restore's name"))

const create = Command.make(
  "create",
  {
    name: Args.text({ name: "NAME" }).pipe(
      Args.withDescription("the restore's name (default: <backup>-<YYYYMMDDhhmmss>)"),
      Args.optional
    ),
    ...connection,
    fromBackup: Options.text("from-backup").pipe(Options.withDescription("the backup to restore from"), Options.optional),
    fromSchedule: Options.text("from-schedule").pipe(
      Options.withDescription("restore the schedule's latest successful backup"),
      Options.optional
    ),
    namespaceMappings: csv("namespace-mappings", "restore namespaces under new names: old:new,old2:new2"),
    ...resourceFilters,
    restoreVolumes: triState("restore-volumes", "create volumes from the backup's snapshots (default true)"),
    existingResourcePolicy: Options.choice("existing-resource-policy", ["none", "update"]).pipe(
      Options.withDescription("what to do with objects that already exist: none (keep, warn when different) or update"),
      Options.withDefault("none")
    ),
    dryRun: Options.boolean("dry-run").pipe(
      Options.withDescription("show what would be created, left alone or in conflict; write nothing")
    ),
    wait
  },
  () => Effect.fail(notYetDelivered("ark restore create", "restores"))
).pipe(Command.withDescription("Restore objects and volumes from a backup"))

const get = Command.make(
  "get",
  { name: Args.text({ name: "NAME" }).pipe(Args.optional), ...connection, output },
  () => Effect.fail(notYetDelivered("ark restore get", "restores"))
).pipe(Command.withDescription("List restores, or show one"))

const describe = Command.make(
  "describe",
  {
    name,
    ...connection,
    details: Options.boolean("details").pipe(Options.withDescription("also list every restored object"))
  },
  () => Effect.fail(notYetDelivered("ark restore describe", "restores"))
).pipe(Command.withDescription("Show a restore's spec, status, warnings and errors"))

const logs = Command.make("logs", { name, ...connection }, () =>
  Effect.fail(notYetDelivered("ark restore logs", "restores"))
).pipe(Command.withDescription("Print a restore's log from object storage"))

const remove = Command.make(
  "delete",
  {
    name,
    ...connection,
    confirm: Options.boolean("confirm").pipe(Options.withDescription("do not ask for confirmation"))
  },
  () => Effect.fail(notYetDelivered("ark restore delete", "restores"))
).pipe(Command.withDescription("Delete a restore and its files in object storage"))

export const restoreCommand = Command.make("restore").pipe(
  Command.withDescription("Work with restores"),
  Command.withSubcommands([create, get, describe, logs, remove])
)
