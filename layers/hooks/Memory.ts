import type { Duration } from "effect"
import { Clock, Context, Effect, Layer, Ref } from "effect"

import type { ExecResult, ExecTarget } from "../../services/HookRunner.ts"
import { HookExecError, HookRunner, HookTimeout } from "../../services/HookRunner.ts"

/** Which exec calls a script applies to; an unset field matches anything. */
export interface ExecMatch {
  readonly namespace?: string
  readonly pod?: string
  readonly container?: string
  readonly command?: ReadonlyArray<string>
}

/** What a matching exec does: how long it runs, then its result or a failure to run at all. */
export interface ScriptedExec {
  readonly takes?: Duration.DurationInput
  readonly result?: Partial<ExecResult>
  /** The exec could not be run (no such container, broken stream): a HookExecError. */
  readonly execError?: string
}

export interface ExecCall {
  readonly target: ExecTarget
  readonly command: ReadonlyArray<string>
  readonly timeout: Duration.Duration
  /** Clock time when the exec started. */
  readonly startedAtMillis: number
  readonly outcome: "exited" | "timedOut" | "execError"
  readonly exitCode?: number
}

/** Test handle on the fake: script behaviours, read back the calls in the order they started. */
export class MemoryHooks extends Context.Tag("ark/MemoryHooks")<MemoryHooks, {
  /** Later scripts take precedence over earlier ones that match the same call. */
  readonly script: (match: ExecMatch, behaviour: ScriptedExec) => Effect.Effect<void>
  readonly calls: Effect.Effect<ReadonlyArray<ExecCall>>
}>() {}

const matches = (match: ExecMatch, target: ExecTarget, command: ReadonlyArray<string>): boolean =>
  (match.namespace === undefined || match.namespace === target.namespace) &&
  (match.pod === undefined || match.pod === target.pod) &&
  (match.container === undefined || match.container === target.container) &&
  (match.command === undefined ||
    (match.command.length === command.length && match.command.every((part, i) => part === command[i])))

export interface MemoryHooksConfig {
  /** Scripts in place from the start; `MemoryHooks.script` adds more. */
  readonly scripts?: ReadonlyArray<readonly [ExecMatch, ScriptedExec]>
}

export const make = (config: MemoryHooksConfig = {}) =>
  Effect.gen(function*() {
    const scripts = yield* Ref.make<ReadonlyArray<readonly [ExecMatch, ScriptedExec]>>(config.scripts ?? [])
    const calls = yield* Ref.make<ReadonlyArray<ExecCall>>([])

    const exec = Effect.fn("MemoryHooks.exec")(function*(
      target: ExecTarget,
      command: ReadonlyArray<string>,
      timeout: Duration.Duration
    ) {
      const startedAtMillis = yield* Clock.currentTimeMillis
      const behaviour = (yield* Ref.get(scripts)).findLast(([match]) => matches(match, target, command))?.[1] ?? {}
      // Recorded before running so a hook that hangs still shows up in order.
      const index = yield* Ref.modify(calls, (list) => [
        list.length,
        [...list, { target, command: [...command], timeout, startedAtMillis, outcome: "exited" as const, exitCode: 0 }]
      ])
      const settle = (outcome: ExecCall["outcome"], exitCode?: number) =>
        Ref.update(calls, (list) =>
          list.map((call, i) => {
            if (i !== index) return call
            const { exitCode: _previous, ...rest } = call
            return exitCode === undefined ? { ...rest, outcome } : { ...rest, outcome, exitCode }
          }))

      const run = Effect.gen(function*() {
        if (behaviour.takes !== undefined) yield* Effect.sleep(behaviour.takes)
        if (behaviour.execError !== undefined) {
          return yield* new HookExecError({ ...target, message: behaviour.execError })
        }
        const result: ExecResult = { stdout: "", stderr: "", exitCode: 0, ...behaviour.result }
        return result
      })

      return yield* run.pipe(
        Effect.timeoutFail({ duration: timeout, onTimeout: () => new HookTimeout({ ...target, timeout }) }),
        Effect.tap((result) => settle("exited", result.exitCode)),
        Effect.tapError((error) => settle(error._tag === "HookTimeout" ? "timedOut" : "execError"))
      )
    })

    const runner: HookRunner.Shape = { exec }
    const control: MemoryHooks["Type"] = {
      script: (match, behaviour) => Ref.update(scripts, (list) => [...list, [match, behaviour] as const]),
      calls: Ref.get(calls)
    }
    return { runner, control }
  })

/** Provides the HookRunner and its MemoryHooks handle over the same state. */
export const layer = (config: MemoryHooksConfig = {}): Layer.Layer<HookRunner | MemoryHooks> =>
  Layer.effectContext(
    make(config).pipe(
      Effect.map(({ runner, control }) => Context.make(HookRunner, runner).pipe(Context.add(MemoryHooks, control)))
    )
  )
