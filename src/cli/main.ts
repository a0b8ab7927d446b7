#!/usr/bin/env node
import { ValidationError } from "@effect/cli"
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import type { Terminal } from "@effect/platform/Terminal"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Cause, Console, Effect, Layer, Option } from "effect"

import { ark, runArk } from "./app.ts"
import { completeWords } from "./commands/completion.ts"
import { completeCommand } from "./completion/scripts.ts"
import { CliError } from "./errors.ts"

/** One line and a hint for the user's errors (app.ts turns @effect/cli's parse errors into these). */
const report = (cause: Cause.Cause<unknown>) =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => (Cause.isInterruptedOnly(cause) ? Effect.void : Console.error(Cause.pretty(cause))),
    onSome: (error) =>
      error instanceof CliError
        ? Console.error(`error: ${error.message}${error.hint === undefined ? "" : `\nhint: ${error.hint}`}`)
        : ValidationError.isValidationError(error)
        ? Effect.void
        : Console.error(`error: ${String(error)}`)
  })

// The completion scripts' hidden command, outside the tree so that help never shows it.
const program: Effect.Effect<void, unknown, FileSystem | Path | Terminal> = process.argv[2] === completeCommand
  ? completeWords(ark, process.argv.slice(3))
  : runArk(process.argv)

program.pipe(
  Effect.tapErrorCause((cause) => report(cause)),
  // What @effect/cli needs, not all of NodeContext: its CommandExecutor alone loads child_process,
  // net and dgram at every start, and no command runs a local program.
  Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
