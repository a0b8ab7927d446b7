import { Command } from "@effect/cli"
import { Console, Effect } from "effect"

import { backupCommand } from "./commands/backup.ts"
import { clientCommand } from "./commands/client.ts"
import { completionCommand } from "./commands/completion.ts"
import { installCommand } from "./commands/install.ts"
import { backupLocationCommand, snapshotLocationCommand } from "./commands/locations.ts"
import { restoreCommand } from "./commands/restore.ts"
import { scheduleCommand } from "./commands/schedule.ts"
import { serverCommand } from "./commands/server.ts"
import { arkVersion, versionCommand } from "./commands/version.ts"
import { CliError } from "./errors.ts"
import { commandTree } from "./commandTree.ts"
import { renderHelp } from "./help/render.ts"
import { route } from "./help/route.ts"

const operations = [
  backupCommand,
  restoreCommand,
  scheduleCommand,
  backupLocationCommand,
  snapshotLocationCommand,
  serverCommand,
  installCommand,
  clientCommand,
  versionCommand
] as const

export const ark = Command.make("ark").pipe(
  Command.withDescription("Back up, restore and migrate Kubernetes clusters"),
  Command.withSubcommands([...operations, completionCommand])
)

const runParsed = Command.run(ark, { name: "ark", version: arkVersion })

/**
 * Runs `ark` with the process's argv. Help and mistyped commands or flags are answered from the
 * declared tree (help/); @effect/cli parses and runs the rest.
 */
export const runArk = (argv: ReadonlyArray<string>) =>
  Effect.suspend(() => {
    const destination = route(commandTree(ark), argv.slice(2))
    switch (destination._tag) {
      case "Help":
        return Console.log(renderHelp(destination.path))
      case "Mistake":
        return Effect.fail(new CliError({ message: destination.message, hint: destination.hint }))
      case "Run":
        return runParsed(argv)
    }
  })
