import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { notYetDelivered } from "../errors.ts"
import { backupSpec, connection, output, wait } from "../options.ts"

const name = Args.text({ name: "NAME" }).pipe(Args.withDescription("the backup's name"))

const create = Command.make(
  "create",
  {
    name,
    ...connection,
    ...backupSpec,
    fromSchedule: Options.text("from-schedule").pipe(
      Options.withDescription("create the backup from this schedule's template"),
      Options.optional
    ),
    wait
  },
  () => Effect.fail(notYetDelivered("ark backup create", "backups"))
).pipe(Command.withDescription("Back up the cluster's objects (and snapshot its volumes) to object storage"))

const get = Command.make(
  "get",
  { name: Args.text({ name: "NAME" }).pipe(Args.optional), ...connection, output },
  () => Effect.fail(notYetDelivered("ark backup get", "backups"))
).pipe(Command.withDescription("List backups, or show one"))

const describe = Command.make(
  "describe",
  {
    name,
    ...connection,
    details: Options.boolean("details").pipe(Options.withDescription("also list every backed-up object and snapshot"))
  },
  () => Effect.fail(notYetDelivered("ark backup describe", "backups"))
).pipe(Command.withDescription("Show a backup's spec, status, warnings and errors"))

const logs = Command.make("logs", { name, ...connection }, () =>
  Effect.fail(notYetDelivered("ark backup logs", "backups"))
).pipe(Command.withDescription("Print a backup's log from object storage"))

const download = Command.make(
  "download",
  {
    name,
    ...connection,
    output: Options.file("output").pipe(
      Options.withAlias("o"),
      Options.withDescription("where to write the tarball (default: ./NAME-data.tar.gz)"),
      Options.optional
    )
  },
  () => Effect.fail(notYetDelivered("ark backup download", "backups"))
).pipe(Command.withDescription("Download a backup's tarball"))

const remove = Command.make(
  "delete",
  {
    name,
    ...connection,
    confirm: Options.boolean("confirm").pipe(Options.withDescription("do not ask for confirmation"))
  },
  () => Effect.fail(notYetDelivered("ark backup delete", "backups"))
).pipe(Command.withDescription("Delete a backup: the resource, its files in object storage, its snapshots and its restores"))

export const backupCommand = Command.make("backup").pipe(
  Command.withDescription("Work with backups"),
  Command.withSubcommands([create, get, describe, logs, download, remove])
)
