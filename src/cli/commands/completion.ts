import { Args, Command } from "@effect/cli"
import { Console, Effect } from "effect"

/** `ark completion bash|zsh|fish` prints a completion script for the whole command tree. */
export const completionCommand = <Name extends string, R, E, A>(root: Command.Command<Name, R, E, A>) =>
  Command.make(
    "completion",
    { shell: Args.choice([["bash", "bash"], ["zsh", "zsh"], ["fish", "fish"]], { name: "SHELL" }) },
    ({ shell }) =>
      Effect.gen(function*() {
        const lines = shell === "bash"
          ? yield* Command.getBashCompletions(root, "ark")
          : shell === "zsh"
          ? yield* Command.getZshCompletions(root, "ark")
          : yield* Command.getFishCompletions(root, "ark")
        yield* Console.log(lines.join("\n"))
      })
  ).pipe(Command.withDescription("Print a shell completion script: source <(ark completion bash)"))
