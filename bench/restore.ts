// `npm run bench -- restore [--sizes 10000]`: Ark's restore rate against plain concurrent creates
// of the same objects from the same process (bench/measureRestore.ts), on a real control plane.
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

import { Effect } from "effect"

import { untilQuiet } from "./quiet.ts"

interface Measurement {
  readonly objects: number
  readonly plainCreatesPerSecond: number
  readonly restorePerSecond: number
  readonly itemsRestored: number
  /** The restore's concurrency window when it ended. */
  readonly restoreConcurrency?: { readonly size: number; readonly peak: number; readonly throttled: number }
}

const measure = (size: number, nodeOptions: ReadonlyArray<string>): Measurement => {
  const script = fileURLToPath(new URL("./measureRestore.ts", import.meta.url))
  const output = execFileSync(process.execPath, [...nodeOptions, script, String(size)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"]
  })
  return JSON.parse(output.trim().split("\n").at(-1) ?? "{}") as Measurement
}

export const benchRestore = (sizes: ReadonlyArray<number>, nodeOptions: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const rows: Array<string> = []
    for (const size of sizes) {
      yield* untilQuiet
      const m = measure(size, nodeOptions)
      rows.push(
        [
          String(m.objects).padStart(7),
          m.plainCreatesPerSecond.toFixed(0).padStart(15),
          m.restorePerSecond.toFixed(0).padStart(9),
          (m.restorePerSecond / m.plainCreatesPerSecond).toFixed(2).padStart(13),
          m.restoreConcurrency === undefined
            ? ""
            : `${m.restoreConcurrency.size} (peak ${m.restoreConcurrency.peak}, ${m.restoreConcurrency.throttled} 429s)`
        ].join("  ")
      )
    }
    console.log("objects  plain creates/s  restore/s  restore÷plain  restore concurrency at the end")
    for (const row of rows) console.log(row)
    console.log("target: restore ≥ 0.7 × plain concurrent creates")
  })
