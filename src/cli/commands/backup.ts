import { Args, Command, Options } from "@effect/cli"

import { lazily } from "../lazy.ts"
import { mapOption } from "../mapFlag.ts"
import { backupSpec, confirm, connection, logOutput, outputFlags, wait } from "../options.ts"
import { allFlag, namesArg, selectorFlag } from "../selection.ts"
import { withCluster } from "../wiring.ts"

const name = Args.text({ name: "NAME" }).pipe(Args.withDescription("the backup's name"))

// A description given twice is joined, not replaced: each command says what the file does there.
const identityFileFlag = (description: string) =>
  Options.file("identity-file").pipe(Options.withDescription(description), Options.optional)

const identityFile = identityFileFlag(
  "an age identity file (as age-keygen writes) to read an encrypted backup with (default: the location's identitySecret)"
)

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
  (args) => lazily(() => import("../backup/create.ts"), (m) => m.createBackup(args))
).pipe(
  Command.withDescription("Back up the cluster's objects (and snapshot its volumes) to object storage"),
  withCluster
)

const get = Command.make(
  "get",
  { names: namesArg("backup"), selector: selectorFlag, ...connection, ...outputFlags },
  (args) => lazily(() => import("../backup/read.ts"), (m) => m.getBackups(args))
).pipe(Command.withDescription("List backups: all, the ones named, or those -l selects"), withCluster)

const describe = Command.make(
  "describe",
  {
    name,
    ...connection,
    details: Options.boolean("details").pipe(Options.withDescription("also list every backed-up object")),
    identityFile
  },
  (args) => lazily(() => import("../backup/read.ts"), (m) => m.describeBackupCommand(args))
).pipe(Command.withDescription("Show a backup's spec, status, warnings and errors"), withCluster)

const logs = Command.make(
  "logs",
  { name, ...connection, output: logOutput, identityFile },
  (args) => lazily(() => import("../backup/files.ts"), (m) => m.backupLogs(args))
).pipe(
  Command.withDescription("Print a backup's log from object storage (text, or -o json for JSON lines)"),
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
    force: Options.boolean("force").pipe(Options.withDescription("overwrite the output file if it exists")),
    identityFile: identityFileFlag(
      "an age identity file: the tarball is decrypted (without it, an encrypted backup is saved as stored, NAME-data.tar.gz.age)"
    )
  },
  (args) => lazily(() => import("../backup/files.ts"), (m) => m.downloadBackup(args))
).pipe(Command.withDescription("Download a backup's tarball"), withCluster)

const remove = Command.make(
  "delete",
  {
    names: namesArg("backup"),
    selector: selectorFlag,
    all: allFlag,
    ...connection,
    confirm
  },
  (args) => lazily(() => import("../backup/delete.ts"), (m) => m.deleteBackups(args))
).pipe(
  Command.withDescription(
    "Delete a backup (through a DeleteBackupRequest the server processes): its files, volume snapshots, restores, then the resource"
  ),
  withCluster
)

const verify = Command.make(
  "verify",
  {
    name: Args.text({ name: "NAME" }).pipe(Args.withDescription("the backup's name"), Args.optional),
    all: Options.boolean("all").pipe(Options.withDescription("verify every finished backup")),
    ...connection,
    identityFile: identityFileFlag(
      "an age identity file: an encrypted backup's tarball is decrypted and every entry parsed (default: the location's identitySecret; without either, only its digests are checked)"
    )
  },
  (args) => lazily(() => import("../backup/verify.ts"), (m) => m.verifyBackups(args))
).pipe(
  Command.withDescription(
    "Read a backup back from storage and check every file's size and SHA-256, every tarball entry and the item count; exits non-zero when anything differs"
  ),
  withCluster
)

export const backupCommand = Command.make("backup").pipe(
  Command.withDescription("Work with backups"),
  Command.withSubcommands([create, get, describe, logs, download, verify, remove])
)
