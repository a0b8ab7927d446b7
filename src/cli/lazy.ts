import { Effect } from "effect"

/**
 * Runs a command from a module loaded only when that command runs: `ark` starts by building the
 * command tree alone, not every command's implementation (and the libraries behind them).
 */
export const lazily = <M, E, R>(load: () => Promise<M>, run: (module: M) => Effect.Effect<void, E, R>) =>
  Effect.flatMap(
    Effect.promise(() => load()),
    (module) => run(module)
  )
