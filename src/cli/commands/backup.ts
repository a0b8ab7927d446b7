import { Args, Command, Options } from "@effect/cli"

import { createBackup } from "../backup/create.ts"
import { deleteBackup } from "../backup/delete.ts"
import { backupLogs, downloadBackup } from "../backup/files.ts"
import { describeBackupCommand, getBackups } from "../backup/read.ts"
import { mapOption } from "../mapFlag.ts"
import { backupSpec, confirm, connection, output, wait } from "../options.ts"
import { withCluster } from "../wiring.ts"

const name = Args.text({ name: "NAME" }).pipe(Args.withDescription("the backup's name"))

const create = Command.make(
  "create",
  {
    name,
    ...connection,
    ...backupSpec,
    labels: mapOption("labels", "labels to put on the Backup itself, k=v[,k=v]"),
    annotations: mapOption("annotations", "annotations to put on the Backup itself, k=v[,k=v]"),
    fromSchedule: Options.text("from-schedule").pipe(
      Options.withDescription("create the backup from this schedule's template"),
      Options.optional
    ),
    wait
  },
  (args) => createBackup(args)
).pipe(
  Command.withDescription("Back up the cluster's objects (and snapshot its volumes) to object storage"),
  withCluster
)

const get = Command.make(
  "get",
  { name: Args.text({ name: "NAME" }).pipe(Args.optional), ...connection, output },
  (args) => getBackups(args)
).pipe(Command.withDescription("List backups, or show one"), withCluster)

const describe = Command.make(
  "describe",
  {
    name,
    ...connection,
    details: Options.boolean("details").pipe(Options.withDescription("also list every backed-up object"))
  },
  (args) => describeBackupCommand(args)
).pipe(Command.withDescription("Show a backup's spec, status, warnings and errors"), withCluster)

const logs = Command.make("logs", { name, ...connection }, (args) => backupLogs(args)).pipe(
  Command.withDescription("Print a backup's log (JSON lines) from object storage"),
  withCluster
)

const download = Command.make(
  "download",
  {
    name,
    ...connection,
    output: Options.file("output").pipe(
      Options.withAlias("o"),
      Options.withDescription("where to write the tarball (default: ./NAME-data.tar.gz)"),
      Options.optional
    ),
    force: Options.boolean("force").pipe(Options.withDescription("overwrite the output file if it exists"))
  },
  (args) => downloadBackup(args)
).pipe(Command.withDescription("Download a backup's tarball"), withCluster)

const remove = Command.make(
  "delete",
  {
    name,
    ...connection,
    confirm
  },
  (args) => deleteBackup(args)
).pipe(
  Command.withDescription(
    "Delete a backup (through a DeleteBackupRequest the server processes): its files, volume snapshots, restores, then the resource"
  ),
  withCluster
)

export const backupCommand = Command.make("backup").pipe(
  Command.withDescription("Work with backups"),
  Command.withSubcommands([create, get, describe, logs, download, remove])
)
