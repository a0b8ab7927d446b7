// `npm run bench -- cli`: how fast `ark` starts against a bare `node -e 0`, all in one run: the
// median wall time of 15 runs each of `node -e 0`, `ark version` (no cluster) and `ark backup get`
// (one list against the test environment), run through bin/ark.mjs as shipped, and each command's
// peak RSS (its own `process.resourceUsage().maxRSS`, reported at exit on file descriptor 3).
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

import { Effect } from "effect"

import { applyCrds } from "../test/integration/crdsApply.ts"
import { liveKube } from "../test/integration/live.ts"

const bin = fileURLToPath(new URL("../bin/ark.mjs", import.meta.url))
const runs = 15

/** Prints the process's peak RSS in KiB on fd 3 when it exits. */
const reportPeak = "data:text/javascript," +
  encodeURIComponent(
    "import { writeSync } from \"node:fs\"; process.on(\"exit\", () => { try { writeSync(3, String(process.resourceUsage().maxRSS)) } catch {} })"
  )

interface Sample {
  readonly millis: number
  readonly rssKiB: number
}

const once = (args: ReadonlyArray<string>): Sample => {
  const start = performance.now()
  const run = spawnSync(process.execPath, ["--import", reportPeak, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe", "pipe"],
    timeout: 120_000
  })
  const millis = performance.now() - start
  if (run.status !== 0) throw new Error(`${args.join(" ")} exited ${run.status}: ${run.stderr}`)
  return { millis, rssKiB: Number(run.output[3] ?? 0) }
}

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

/** `ark backup get` lists Ark's Backups: the environment's cluster needs the CRDs first. */
const withCrds = applyCrds.pipe(Effect.provide(liveKube()))

export const benchCli = (_sizes: ReadonlyArray<number>) =>
  Effect.zipRight(
    withCrds,
    Effect.sync(() => {
      const kubeconfig = process.env["KUBECONFIG"] ?? ""
      const commands = [
        { name: "node -e 0", args: ["-e", "0"] },
        { name: "ark version", args: [bin, "version", "--client-only"] },
        { name: "ark backup get", args: [bin, "backup", "get", "--kubeconfig", kubeconfig] }
      ]
      once([bin, "version", "--client-only"]) // warms the file cache and builds nothing: the bundle is already fresh
      // Interleaved, so a change in the machine's load touches every command alike.
      const samples = commands.map(() => [] as Array<Sample>)
      for (let i = 0; i < runs; i++) commands.forEach((command, index) => samples[index]!.push(once(command.args)))
      const base = median(samples[0]!.map((s) => s.millis))
      console.log(`median of ${runs} runs each, interleaved`)
      console.log("command          wall ms  ÷ node -e 0  peak RSS MiB")
      commands.forEach((command, index) => {
        const millis = median(samples[index]!.map((s) => s.millis))
        const rss = median(samples[index]!.map((s) => s.rssKiB)) / 1024
        console.log(
          `${command.name.padEnd(15)} ${millis.toFixed(0).padStart(8)}  ${(millis / base).toFixed(1).padStart(11)}  ${
            rss.toFixed(0).padStart(12)
          }`
        )
      })
      console.log("goals: ark version ≤ 6× and ark backup get ≤ 12× node -e 0; ark version < 100 MiB")
    })
  )
