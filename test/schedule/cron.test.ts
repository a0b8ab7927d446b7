// Schedule syntax and next-run times: 5-field cron, descriptors, @every, and what is rejected.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Either } from "effect"

import type { Cron } from "../../src/schedule/cron.ts"
import { nextRun, parseSchedule } from "../../src/schedule/cron.ts"

const at = (iso: string) => Date.parse(iso)
const iso = (millis: number) => new Date(millis).toISOString()

const parsed = (text: string): Cron => {
  const result = parseSchedule(text)
  if (Either.isLeft(result)) assert.fail(`"${text}" should parse, got: ${result.left}`)
  return result.right
}

const rejection = (text: string): string => {
  const result = parseSchedule(text)
  if (Either.isRight(result)) assert.fail(`"${text}" should be rejected, got ${JSON.stringify(result.right)}`)
  return result.left
}

/** The next `count` runs after `start`, each computed from the previous one. */
const runs = (text: string, start: string, count: number): ReadonlyArray<string> => {
  const cron = parsed(text)
  const times: Array<string> = []
  let last = at(start)
  for (let i = 0; i < count; i++) {
    last = nextRun(cron, last)
    times.push(iso(last))
  }
  return times
}

describe("parseSchedule / nextRun", () => {
  it("5-field cron, in UTC, strictly after the given time", () => {
    assert.deepStrictEqual(runs("*/5 * * * *", "2024-05-01T12:00:00Z", 3), [
      "2024-05-01T12:05:00.000Z",
      "2024-05-01T12:10:00.000Z",
      "2024-05-01T12:15:00.000Z"
    ])
    assert.deepStrictEqual(runs("0 */6 * * *", "2024-05-01T12:00:30.500Z", 2), [
      "2024-05-01T18:00:00.000Z",
      "2024-05-02T00:00:00.000Z"
    ])
    assert.deepStrictEqual(runs("30 2 * * 1", "2024-05-01T00:00:00Z", 2), [
      "2024-05-06T02:30:00.000Z",
      "2024-05-13T02:30:00.000Z"
    ])
    assert.deepStrictEqual(runs("  15 3 1 jan,jul *  ", "2024-05-01T00:00:00Z", 2), [
      "2024-07-01T03:15:00.000Z",
      "2025-01-01T03:15:00.000Z"
    ])
  })

  it("descriptors", () => {
    const start = "2024-05-01T12:34:56Z"
    const next = (text: string) => runs(text, start, 1)[0]
    assert.strictEqual(next("@hourly"), "2024-05-01T13:00:00.000Z")
    assert.strictEqual(next("@daily"), "2024-05-02T00:00:00.000Z")
    assert.strictEqual(next("@midnight"), "2024-05-02T00:00:00.000Z")
    assert.strictEqual(next("@weekly"), "2024-05-05T00:00:00.000Z")
    assert.strictEqual(next("@monthly"), "2024-06-01T00:00:00.000Z")
    assert.strictEqual(next("@yearly"), "2025-01-01T00:00:00.000Z")
    assert.strictEqual(next("@annually"), "2025-01-01T00:00:00.000Z")
  })

  it("@every <Go duration>: the last run plus the interval", () => {
    assert.deepStrictEqual(runs("@every 90m", "2024-05-01T12:00:00Z", 2), [
      "2024-05-01T13:30:00.000Z",
      "2024-05-01T15:00:00.000Z"
    ])
    assert.deepStrictEqual(parsed("@every 1h30m"), { _tag: "Every", interval: Duration.minutes(90) })
    // robfig/cron's rule: whole seconds, at least one.
    assert.deepStrictEqual(parsed("@every 1.5s"), { _tag: "Every", interval: Duration.seconds(1) })
    assert.deepStrictEqual(parsed("@every 10ms"), { _tag: "Every", interval: Duration.seconds(1) })
  })

  it("rejects seconds fields, garbage and non-positive intervals with the reason", () => {
    assert.strictEqual(
      rejection("0 0 * * * *"),
      "expected 5 fields (minute hour day-of-month month day-of-week), got 6: a seconds field is not supported"
    )
    assert.strictEqual(rejection("* * *"), "expected 5 fields (minute hour day-of-month month day-of-week), got 3")
    assert.strictEqual(rejection("60 * * * *"), "Constraint error, got value 60 expected range 0-59")
    assert.strictEqual(rejection("not a cron at all"), "Invalid characters, got value: not")
    assert.strictEqual(rejection("0 0 30 2 *"), "Invalid explicit day of month definition")
    assert.strictEqual(rejection("H * * * *"), "hashed values (H) are not supported")
    assert.include(rejection(""), "empty schedule")
    assert.include(rejection("@fortnightly"), "unknown descriptor \"@fortnightly\"")
    assert.include(rejection("@every"), "@every needs a duration")
    assert.include(rejection("@every 2 days"), "@every: invalid duration \"2 days\"")
    assert.include(rejection("@every 1d"), "invalid duration \"1d\"")
    assert.strictEqual(rejection("@every 0s"), "@every needs a positive duration, got \"0s\"")
    assert.strictEqual(
      rejection("@every -1h"),
      "@every: invalid duration \"-1h\": expected a Go duration such as 6h, 30m or 1h30m"
    )
  })

  it("a day-of-week with names and THU is not mistaken for a hashed value", () => {
    assert.deepStrictEqual(runs("0 9 * * THU", "2024-05-01T00:00:00Z", 1), ["2024-05-02T09:00:00.000Z"])
  })
})
