import { assert, describe, it } from "@effect/vitest"
import { Duration, Option, Schema } from "effect"

import { GoDuration } from "../../src/api/common.ts"
import { parseGoDuration } from "../../src/api/duration.ts"

const parsed = (input: string) => Option.map(parseGoDuration(input), (d) => Duration.unsafeToNanos(d))

describe("parseGoDuration", () => {
  const valid: ReadonlyArray<readonly [string, Duration.DurationInput]> = [
    ["72h", "72 hours"],
    ["720h", "720 hours"],
    ["30m", "30 minutes"],
    ["1h30m", "90 minutes"],
    ["1.5h", "90 minutes"],
    ["0s", Duration.zero],
    ["0", Duration.zero],
    ["2h45m10.5s", Duration.millis((2 * 3600 + 45 * 60 + 10) * 1000 + 500)],
    ["250ms", "250 millis"],
    ["1us", "1 micros"],
    ["1µs", "1 micros"],
    ["1μs", "1 micros"],
    ["7ns", Duration.nanos(7n)],
    ["1.0000000001s", Duration.nanos(1_000_000_000n)] // sub-nanosecond digits truncate, as in Go
  ]
  for (const [input, expected] of valid) {
    it(`parses ${input}`, () => {
      assert.deepStrictEqual(parsed(input), Option.some(Duration.unsafeToNanos(Duration.decode(expected))))
    })
  }

  for (const input of ["", "1d", "h", "1", "-1h", "+1h", ".5h", "1.h", "1h 30m", " 1h", "1H", "00"]) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.isTrue(Option.isNone(parseGoDuration(input)))
    })
  }

  it.prop("accepts every duration the schema accepts, and sums its terms", { ttl: GoDuration }, ({ ttl }) => {
    assert.isTrue(Schema.is(GoDuration)(ttl))
    const nanos = parsed(ttl)
    assert.isTrue(Option.isSome(nanos))
    const units: Record<string, bigint> = {
      h: 3_600_000_000_000n,
      m: 60_000_000_000n,
      s: 1_000_000_000n,
      ms: 1_000_000n,
      us: 1000n,
      "µs": 1000n,
      ns: 1n
    }
    const expected = [...ttl.matchAll(/([0-9]+)(ns|us|µs|ms|s|m|h)/g)]
      .reduce((sum, [, n = "0", unit = ""]) => sum + BigInt(n) * (units[unit] ?? 0n), 0n)
    assert.deepStrictEqual(nanos, Option.some(expected))
  })
})
