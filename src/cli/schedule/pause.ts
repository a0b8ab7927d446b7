// `ark schedule pause` and `ark schedule unpause`: flip spec.paused. The server picks the change
// up at its next look at the schedule (within --schedule-sync-period).
import { Console, Effect } from "effect"

import { KubeClient } from "../../../services/KubeClient.ts"
import { kubeFailure } from "../backup/kube.ts"
import { arkCommand } from "../namespace.ts"
import { getSchedule, schedulesGvr } from "./kube.ts"

export interface PauseArgs {
  readonly name: string
  readonly namespace: string
  /** Unpause only: skip the backup that is due at once (Velero's skipImmediately). */
  readonly skipImmediately?: boolean
}

export const setPaused = (paused: boolean) =>
  Effect.fn(paused ? "Cli.schedulePause" : "Cli.scheduleUnpause")(function*(args: PauseArgs) {
    const kube = yield* KubeClient
    const { decoded: schedule } = yield* getSchedule(args.name, args.namespace)
    const verb = paused ? "paused" : "unpaused"
    if ((schedule.spec.paused === true) === paused) {
      return yield* Console.log(`Schedule "${args.name}" is already ${verb}.`)
    }
    const skip = !paused && args.skipImmediately === true ? { skipImmediately: true } : {}
    yield* kube.patch(schedulesGvr, args.name, { type: "merge", body: { spec: { paused, ...skip } } }, args.namespace)
      .pipe(
        Effect.mapError((error) => kubeFailure(`cannot update schedule "${args.name}"`, args.namespace)(error))
      )
    yield* Console.log(
      paused
        ? `Schedule "${args.name}" paused: no backups are created from it until \`${
          arkCommand(args.namespace, `schedule unpause ${args.name}`)
        }\`.`
        : args.skipImmediately === true
        ? `Schedule "${args.name}" unpaused: a backup missed while it was paused is skipped; the next runs at its schedule's next time.`
        : `Schedule "${args.name}" unpaused: a backup missed while it was paused runs at the server's next look, then it follows its schedule.`
    )
  })

export const pauseSchedule = setPaused(true)
export const unpauseSchedule = setPaused(false)
