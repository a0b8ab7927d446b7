import { Command, ValidationError } from "@effect/cli"
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
import { commandTree } from "./commandTree.ts"
import { CliError } from "./errors.ts"
import { renderHelp } from "./help/render.ts"
import { route, words } from "./help/route.ts"
import { parseError } from "./parseErrors.ts"

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

/**
 * Parses and runs `argv` with @effect/cli. The parser prints its own errors (a usage dump) to the
 * console's `error`, so that is silent until the command's handler runs with the real console, and
 * a parse error fails as Ark's one line instead.
 */
const runParsed = (command: string, argv: ReadonlyArray<string>) =>
  Effect.flatMap(Effect.console, (console) => {
    const handled = Command.transformHandler(ark, (effect) => Effect.withConsole(effect, console))
    return Command.run(handled, { name: "ark", version: arkVersion })(argv).pipe(
      Effect.withConsole({ ...console, error: () => Effect.void }),
      Effect.catchIf(ValidationError.isValidationError, (error) => Effect.fail(parseError(command, error)))
    )
  })

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
      // @effect/cli's own --version prints an empty line after it.
      case "Version":
        return Console.log(arkVersion)
      case "Mistake":
        return Effect.fail(new CliError({ message: destination.message, hint: destination.hint }))
      case "Run":
        return runParsed(words(destination.path), argv)
    }
  })
