import { Data, Duration, Effect, Option, Schedule } from "effect"

export class DeadlineExceeded extends Data.TaggedError("DeadlineExceeded")<{ readonly what: string }> {
  override get message() {
    return `timed out waiting for ${this.what}`
  }
}

/**
 * Polls `check` until it returns Some, or fails after `deadline`. Real components are
 * asynchronous (a CRD becomes Established, a pod Running): wait on the condition, never a fixed sleep.
 */
export const waitFor = <A, E, R>(
  what: string,
  check: Effect.Effect<Option.Option<A>, E, R>,
  deadline: Duration.DurationInput = Duration.seconds(60)
): Effect.Effect<A, E | DeadlineExceeded, R> => {
  const poll = Schedule.identity<Option.Option<A>>().pipe(
    Schedule.zipLeft(Schedule.spaced(Duration.millis(200))),
    Schedule.untilInput(Option.isSome)
  )
  return check.pipe(
    Effect.repeat(poll),
    Effect.flatMap(Option.match({
      onNone: () => Effect.dieMessage("unreachable: polling ended without a value"),
      onSome: (value) => Effect.succeed(value)
    })),
    Effect.timeoutFail({ duration: deadline, onTimeout: () => new DeadlineExceeded({ what }) })
  )
}
