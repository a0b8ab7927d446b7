import { Duration, Schedule } from "effect"

import type { KubeError } from "../../../services/KubeClient.ts"

const MAX_DELAY = Duration.seconds(30)

const backoff = (retries: number, retryable: (error: KubeError) => boolean) =>
  Schedule.exponential("250 millis", 2).pipe(
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(retries)),
    Schedule.intersect(Schedule.identity<KubeError>()),
    Schedule.whileInput(retryable),
    // The server's Retry-After wins over our own guess when it asks for longer.
    Schedule.modifyDelay(([, error], delay) => {
      const capped = Duration.min(delay, MAX_DELAY)
      return error._tag === "KubeUnavailable" && error.retryAfter !== undefined
        ? Duration.max(capped, error.retryAfter)
        : capped
    })
  )

/** Reads are safe to repeat on any throttling, server error or broken connection. */
export const readRetry = (retries: number) => backoff(retries, (error) => error._tag === "KubeUnavailable")

/** Writes are repeated only when the server refused them unprocessed (429 Too Many Requests). */
export const writeRetry = (retries: number) =>
  backoff(retries, (error) => error._tag === "KubeUnavailable" && error.status === 429)
