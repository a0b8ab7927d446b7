// `ark schedule delete`: the Schedule only. The backups it made stay until they expire or are
// deleted themselves.
import { Prompt } from "@effect/cli"
import { Terminal } from "@effect/platform"
import { Console, Effect } from "effect"
import { KubeClient } from "../../../services/KubeClient.ts"
import { kubeFailure } from "../backup/kube.ts"
import { CliError } from "../errors.ts"
import { getSchedule, schedulesGvr } from "./kube.ts"

export interface DeleteArgs {
  readonly name: string
  readonly namespace: string
  readonly confirm: boolean
}

/** Asks y/N on a terminal; without one, deleting needs --confirm. */
const confirmed = (question: string) =>
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

export const deleteSchedule = Effect.fn("Cli.scheduleDelete")(function*(args: DeleteArgs) {
  const kube = yield* KubeClient
  yield* getSchedule(args.name, args.namespace)
  if (!args.confirm) {
    const yes = yield* confirmed(`Delete schedule "${args.name}"? (Its backups stay.)`)
    if (!yes) return yield* Console.log("Cancelled: nothing was deleted.")
  }
  yield* kube.delete(schedulesGvr, args.name, args.namespace).pipe(
    Effect.catchTag("KubeNotFound", () => Effect.void),
    Effect.mapError((error) => kubeFailure(`cannot delete schedule "${args.name}"`, args.namespace)(error))
  )
  yield* Console.log(`Schedule "${args.name}" deleted. Its backups stay until they expire (\`ark backup get\` lists them).`)
})
