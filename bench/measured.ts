// Timing one phase of a benchmark and the peak RSS the process reaches during it.
import { Effect, Fiber, Ref, Schedule } from "effect"

export const rssMiB = () => process.memoryUsage.rss() / 1024 / 1024

/**
 * Runs `effect`, timing it (wall and this process's CPU) and sampling the process's RSS every 20 ms
 * to find the phase's peak.
 */
export const measured = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const peak = yield* Ref.make(rssMiB())
    const sampler = yield* Effect.fork(
      Effect.repeat(Ref.update(peak, (seen) => Math.max(seen, rssMiB())), Schedule.spaced("20 millis"))
    )
    const start = performance.now()
    const cpu = process.cpuUsage()
    const value = yield* effect
    const seconds = (performance.now() - start) / 1000
    const used = process.cpuUsage(cpu)
    yield* Fiber.interrupt(sampler)
    return {
      value,
      seconds,
      cpuSeconds: (used.user + used.system) / 1e6,
      peakRssMiB: Math.max(yield* Ref.get(peak), rssMiB())
    }
  })
