// `ark schedule delete`: the Schedule only. The backups it made stay until they expire or are
// deleted themselves.
import { Console, Effect } from "effect"

import { KubeClient } from "../../../services/KubeClient.ts"
import { kubeFailure } from "../backup/kube.ts"
import { confirmed } from "../confirm.ts"
import { arkCommand } from "../namespace.ts"
import type { DeleteSelectionArgs } from "../selection.ts"
import { deleteSelected } from "../selection.ts"
import { getSchedule, listSchedules, schedulesGvr } from "./kube.ts"

export interface DeleteArgs {
  readonly name: string
  readonly namespace: string
  readonly confirm: boolean
}

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
  yield* Console.log(
    `Schedule "${args.name}" deleted. Its backups stay until they expire (\`${
      arkCommand(args.namespace, "backup get")
    }\` lists them).`
  )
})

/** `ark schedule delete NAME... | -l SELECTOR | --all`: each selected schedule, one after another. */
export const deleteSchedules = (args: DeleteSelectionArgs) =>
  deleteSelected("schedule", args, {
    get: (name) => getSchedule(name, args.namespace),
    list: listSchedules(args.namespace)
  }, deleteSchedule)
