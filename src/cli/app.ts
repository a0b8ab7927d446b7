import { Command } from "@effect/cli"

import { backupCommand } from "./commands/backup.ts"
import { completionCommand } from "./commands/completion.ts"
import { installCommand } from "./commands/install.ts"
import { backupLocationCommand, snapshotLocationCommand } from "./commands/locations.ts"
import { restoreCommand } from "./commands/restore.ts"
import { scheduleCommand } from "./commands/schedule.ts"
import { serverCommand } from "./commands/server.ts"
import { arkVersion, versionCommand } from "./commands/version.ts"

const operations = [
  backupCommand,
  restoreCommand,
  scheduleCommand,
  backupLocationCommand,
  snapshotLocationCommand,
  serverCommand,
  installCommand,
  versionCommand
] as const

export const ark = Command.make("ark").pipe(
  Command.withDescription("Back up, restore and migrate Kubernetes clusters"),
  Command.withSubcommands([...operations, completionCommand])
)

export const runArk = Command.run(ark, { name: "ark", version: arkVersion })
