// The y/N question every `delete` asks before it removes anything.
import { Prompt } from "@effect/cli"
import * as Terminal from "@effect/platform/Terminal"
import { Effect } from "effect"

import { CliError } from "./errors.ts"

/** Asks y/N on a terminal; without one, deleting needs --confirm. */
export const confirmed = (question: string) =>
  Effect.gen(function*() {
    const terminal = yield* Terminal.Terminal
    if (!(yield* terminal.isTTY)) {
      return yield* new CliError({
        message: "refusing to delete without confirmation: there is no terminal to ask on",
        hint: "pass --confirm to delete non-interactively"
      })
    }
    return yield* Prompt.confirm({ message: question, initial: false }).pipe(
      Effect.catchTag("QuitException", () => Effect.succeed(false))
    )
  })
