// The GC controller: a TTL garbage-collection pass (src/gc) at start and then every period
// (`--gc-sync-period`). Not run in --restore-only mode.
import type { Duration } from "effect"
import { Cause, Effect, Layer, Schedule } from "effect"

import type { KubeClient } from "../../../services/KubeClient.ts"
import { collectExpiredBackups } from "../../gc/expired.ts"

export interface GcControllerConfig {
  readonly namespace: string
  /** Time between two passes. */
  readonly period: Duration.DurationInput
}

export const layer = (config: GcControllerConfig): Layer.Layer<never, never, KubeClient> =>
  Layer.scopedDiscard(Effect.forkScoped(
    collectExpiredBackups(config.namespace).pipe(
      // A pass that fails (the API server is down) is logged; the next period tries again.
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause) ? Effect.interrupt : Effect.logWarning("garbage collection pass failed", cause)
      ),
      Effect.repeat(Schedule.spaced(config.period)),
      Effect.annotateLogs({ controller: "gc" })
    )
  ))
