// Running one hook through the HookRunner: its output goes to the backup log, and anything but a
// zero exit becomes a failure that the caller weighs by onError.
import { Duration, Effect, Either } from "effect"

import type { HookRunner } from "../../services/HookRunner.ts"
import type { Level, Where } from "../backup/log.ts"
import type { PodHook } from "./select.ts"

export interface HookLog {
  readonly write: (level: Level, msg: string, where?: Where) => Effect.Effect<void>
}

export type HookOutcome =
  | { readonly _tag: "Succeeded" }
  | { readonly _tag: "Failed"; readonly hook: PodHook; readonly message: string }

/** `pre hook "freeze" in container db of pod app/db-0`: how failures and log lines name a hook. */
export const describeHook = (hook: PodHook, namespace: string, pod: string): string =>
  `${hook.phase} hook "${hook.name}" in container ${hook.container} of pod ${namespace}/${pod}`

const outputLines = (text: string): ReadonlyArray<string> =>
  text.split("\n").map((line) => line.trimEnd()).filter((line) => line !== "")

/** Runs one hook; never fails. */
export const runHook = Effect.fn("Hooks.run")(
  function*(runner: HookRunner.Shape, log: HookLog, namespace: string, pod: string, hook: PodHook) {
    const where: Where = { resource: "pods", namespace, name: pod }
    const described = describeHook(hook, namespace, pod)
    const failed = (message: string): HookOutcome => ({
      _tag: "Failed",
      hook,
      message: `${described} failed: ${message}`
    })
    if (hook.problem !== undefined) return failed(hook.problem)
    yield* log.write("info", `running ${described}: ${JSON.stringify(hook.command)}`, where)
    const result = yield* runner.exec({ namespace, pod, container: hook.container }, hook.command, hook.timeout).pipe(
      Effect.either
    )
    if (Either.isLeft(result)) {
      return failed(
        result.left._tag === "HookTimeout" ? `timed out after ${Duration.format(hook.timeout)}` : result.left.message
      )
    }
    const { stdout, stderr, exitCode } = result.right
    for (const line of outputLines(stdout)) {
      yield* log.write("info", `${hook.phase} hook "${hook.name}" stdout: ${line}`, where)
    }
    for (const line of outputLines(stderr)) {
      yield* log.write("info", `${hook.phase} hook "${hook.name}" stderr: ${line}`, where)
    }
    if (exitCode !== 0) return failed(`exit code ${exitCode}`)
    return { _tag: "Succeeded" } satisfies HookOutcome
  }
)
