import { Duration, Option } from "effect"

/**
 * Go's `time.ParseDuration` syntax without sign and without bare-dot fractions (`.5h`): one or more
 * `<number><unit>` terms, or a lone "0". This is the pattern the CRDs validate `ttl` and hook
 * `timeout` with, so the API server and {@link parseGoDuration} agree on what is a duration.
 */
export const goDurationPattern = /^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|μs|ms|s|m|h))+)$/

const term = /([0-9]+)(?:\.([0-9]+))?(ns|us|µs|μs|ms|s|m|h)/g

const unitNanos: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "µs": 1_000n, // U+00B5 micro sign
  "μs": 1_000n, // U+03BC greek mu; Go accepts both
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n
}

/**
 * Parses a Go duration (`72h`, `30m`, `1h30m`, `1.5h`, `0s`). Fractions are truncated to whole
 * nanoseconds, as Go does. None for anything the pattern rejects ("", "1d", "h", "-1h").
 */
export const parseGoDuration = (input: string): Option.Option<Duration.Duration> => {
  if (!goDurationPattern.test(input)) return Option.none()
  if (input === "0") return Option.some(Duration.zero)
  let total = 0n
  for (const [, whole = "0", fraction = "", unit = ""] of input.matchAll(term)) {
    const scale = unitNanos[unit]
    if (scale === undefined) return Option.none()
    total += BigInt(whole) * scale + (BigInt(fraction || "0") * scale) / 10n ** BigInt(fraction.length)
  }
  return Option.some(Duration.nanos(total))
}
