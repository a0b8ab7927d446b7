import { Args, Command, Options } from "@effect/cli"

import { lazily } from "../lazy.ts"
import {
  confirm,
  connection,
  csv,
  logOutput,
  orSelector,
  outputFlags,
  resourceFilters,
  triState,
  wait
} from "../options.ts"
import { allFlag, namesArg, selectorFlag } from "../selection.ts"
import { withCluster } from "../wiring.ts"

const name = Args.text({ name: "NAME" }).pipe(Args.withDescription("the restore's name"))

const create = Command.make(
  "create",
  {
    name: Args.text({ name: "NAME" }).pipe(
      Args.withDescription("the restore's name (default: <backup>-<YYYYMMDDhhmmss>)"),
      Args.optional
    ),
    ...connection,
    fromBackup: Options.text("from-backup").pipe(
      Options.withDescription("the backup to restore from"),
      Options.optional
    ),
    fromSchedule: Options.text("from-schedule").pipe(
      Options.withDescription("restore the schedule's latest successful backup"),
      Options.optional
    ),
    namespaceMappings: csv("namespace-mappings", "restore namespaces under new names: old:new,old2:new2"),
    ...resourceFilters,
    orSelector,
    restoreVolumes: triState("restore-volumes", "create volumes from the backup's snapshots (default true)"),
    preserveNodePorts: Options.boolean("preserve-nodeports").pipe(
      Options.withDescription(
        "keep every Service nodePort (default: only ones set by hand are kept, the rest reallocated)"
      )
    ),
    existingResourcePolicy: Options.choice("existing-resource-policy", ["none", "update"]).pipe(
      Options.withDescription("what to do with objects that already exist: none (keep, warn when different) or update"),
      Options.withDefault("none")
    ),
    resourceModifierConfigmap: Options.text("resource-modifier-configmap").pipe(
      Options.withPseudoName("NAME"),
      Options.withDescription(
        "a ConfigMap in the server namespace whose resource modifier rules (Velero's format) patch objects before they are restored"
      ),
      Options.optional
    ),
    dryRun: Options.boolean("dry-run").pipe(
      Options.withDescription("show what would be created, left alone or in conflict; write nothing")
    ),
    wait
  },
  (args) => lazily(() => import("../restore/create.ts"), (m) => m.createRestore(args))
).pipe(Command.withDescription("Restore objects and volumes from a backup"), withCluster)

const get = Command.make(
  "get",
  { names: namesArg("restore"), selector: selectorFlag, ...connection, ...outputFlags },
  (args) => lazily(() => import("../restore/read.ts"), (m) => m.getRestores(args))
).pipe(Command.withDescription("List restores: all, the ones named, or those -l selects"), withCluster)

const describe = Command.make(
  "describe",
  {
    name,
    ...connection,
    details: Options.boolean("details").pipe(
      Options.withDescription("also show the restore's warnings and errors in full")
    )
  },
  (args) => lazily(() => import("../restore/read.ts"), (m) => m.describeRestoreCommand(args))
).pipe(Command.withDescription("Show a restore's spec, status, warnings and errors"), withCluster)

const logs = Command.make(
  "logs",
  { name, ...connection, output: logOutput },
  (args) => lazily(() => import("../restore/files.ts"), (m) => m.restoreLogs(args))
).pipe(
  Command.withDescription("Print a restore's log from object storage (text, or -o json for JSON lines)"),
  withCluster
)

const remove = Command.make(
  "delete",
  {
    names: namesArg("restore"),
    selector: selectorFlag,
    all: allFlag,
    ...connection,
    confirm
  },
  (args) => lazily(() => import("../restore/delete.ts"), (m) => m.deleteRestores(args))
).pipe(
  Command.withDescription("Delete a restore and its files in object storage (the restored objects stay)"),
  withCluster
)

export const restoreCommand = Command.make("restore").pipe(
  Command.withDescription("Work with restores"),
  Command.withSubcommands([create, get, describe, logs, remove])
)
