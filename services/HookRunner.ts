import type { Duration, Effect } from "effect"
import { Context, Data } from "effect"

export interface ExecTarget {
  readonly namespace: string
  readonly pod: string
  readonly container: string
}

export interface ExecResult {
  readonly stdout: string
  readonly stderr: string
  readonly exitCode: number
}

export class HookTimeout
  extends Data.TaggedError("HookTimeout")<ExecTarget & { readonly timeout: Duration.Duration }>
{}
/** The command could not be run at all: no such pod or container, or the exec stream broke. */
export class HookExecError
  extends Data.TaggedError("HookExecError")<ExecTarget & { readonly message: string; readonly cause?: unknown }>
{}

/** Runs a command in a container, as backup hooks do. A non-zero exit is a result, not an error. */
export class HookRunner extends Context.Tag("ark/HookRunner")<HookRunner, HookRunner.Shape>() {}

export declare namespace HookRunner {
  export interface Shape {
    readonly exec: (
      target: ExecTarget,
      command: ReadonlyArray<string>,
      timeout: Duration.Duration
    ) => Effect.Effect<ExecResult, HookTimeout | HookExecError>
  }
}
