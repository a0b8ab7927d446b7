import { homedir } from "node:os"

import { Args, Command } from "@effect/cli"
import { Console, Effect, Option } from "effect"

import { resolveNamespace } from "../client/config.ts"
import { commandTree } from "../commandTree.ts"
import { completionOf } from "../completion/candidates.ts"
import type { Shell } from "../completion/scripts.ts"
import { completionScript } from "../completion/scripts.ts"
import { defaultNamespace } from "../namespace.ts"
import { completionLookupLayer } from "../wiring.ts"

/** `ark completion bash|zsh|fish` prints a script that asks `ark __complete` for candidates. */
export const completionCommand = Command.make(
  "completion",
  { shell: Args.choice<Shell>([["bash", "bash"], ["zsh", "zsh"], ["fish", "fish"]], { name: "SHELL" }) },
  ({ shell }) => Console.log(completionScript(shell))
).pipe(Command.withDescription("Print a shell completion script: source <(ark completion bash)"))

/** The shell does not expand `~` in a word it is still completing. */
const expandHome = (path: string) => path.replace(/^~(?=\/|$)/, homedir())

/**
 * `ark __complete WORD...`: the candidates for the last word, one a line, after the words before it
 * (those after `ark`). Never fails: a shell shows whatever is printed.
 */
export const completeWords = <Name extends string, R, E, A>(
  root: Command.Command<Name, R, E, A>,
  words: ReadonlyArray<string>
) =>
  Effect.gen(function*() {
    const completion = completionOf(commandTree(root), words.slice(0, -1), words.at(-1) ?? "")
    switch (completion._tag) {
      case "Words":
        return yield* Effect.forEach(completion.words, (word) => Console.log(word), { discard: true })
      case "Files":
        return yield* Console.log(":files")
      case "Names": {
        const { kubeconfig } = completion.connection
        // The namespace the command itself would use: -n, else $ARK_NAMESPACE, else the client config's.
        const namespace = yield* resolveNamespace(Option.fromNullable(completion.connection.namespace)).pipe(
          Effect.orElseSucceed(() => defaultNamespace)
        )
        // Loaded only to complete a name: listing needs the Kubernetes client and Stream.
        const { quietly, resourceNames } = yield* Effect.promise(() => import("../completion/names.ts"))
        const names = yield* resourceNames(completion.resource, namespace).pipe(
          Effect.provide(completionLookupLayer(kubeconfig === undefined ? undefined : expandHome(kubeconfig))),
          quietly
        )
        const matching = names.filter((name) => name.startsWith(completion.typed))
        return yield* Effect.forEach(matching, (name) => Console.log(completion.prefix + name), { discard: true })
      }
    }
  })
