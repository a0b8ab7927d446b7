// `npm run bench -- integrity [--sizes 10000]`: seeds each size of namespace (bench/seed.ts), then
// one fresh process backs it up to MinIO plain, with hashing (the default) and with age encryption,
// and this prints the two as ratios to the plain backup of the same run, by wall clock and by CPU.
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

import { Config, Effect, Layer } from "effect"

import * as KubeLive from "../layers/kube/Live.ts"
import { untilQuiet } from "./quiet.ts"
import { seed } from "./seed.ts"

interface Way {
  readonly perSecond: number
  readonly perCpuSecond: number
  readonly seconds: number
  readonly cpuSeconds: number
  readonly items: number
  readonly peakRssMiB: number
}

interface Measurement {
  readonly rounds: number
  readonly plain: Way
  readonly hashing: Way
  readonly encryption: Way
}

const measure = (namespace: string, nodeOptions: ReadonlyArray<string>): Measurement => {
  const script = fileURLToPath(new URL("./measureIntegrity.ts", import.meta.url))
  const output = execFileSync(process.execPath, [...nodeOptions, script, namespace], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"]
  })
  return JSON.parse(output.trim().split("\n").at(-1) ?? "{}") as Measurement
}

export const benchIntegrity = (sizes: ReadonlyArray<number>, nodeOptions: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const rows: Array<string> = []
    let rounds = 0
    for (const size of sizes) {
      const namespace = yield* seed(`bench-${size}`, size)
      yield* untilQuiet
      const m = measure(namespace, nodeOptions)
      rounds = m.rounds
      rows.push(
        [
          String(m.plain.items).padStart(7),
          m.plain.perSecond.toFixed(0).padStart(8),
          m.hashing.perSecond.toFixed(0).padStart(10),
          (m.hashing.perSecond / m.plain.perSecond).toFixed(2).padStart(8),
          m.encryption.perSecond.toFixed(0).padStart(12),
          (m.encryption.perSecond / m.plain.perSecond).toFixed(2).padStart(8),
          (m.hashing.perCpuSecond / m.plain.perCpuSecond).toFixed(2).padStart(9),
          (m.encryption.perCpuSecond / m.plain.perCpuSecond).toFixed(2).padStart(9),
          [m.plain, m.hashing, m.encryption].map((way) => way.peakRssMiB.toFixed(0)).join("/").padStart(14)
        ].join("  ")
      )
    }
    console.log(`backups to MinIO; each figure is the best of ${rounds} rounds in a rotating order`)
    console.log("wall-clock rates, then items per CPU second of the backing-up process as ratios to plain")
    console.log("objects  plain/s  hashing/s  ÷plain  encryption/s  ÷plain  hash CPU  encr CPU  peak RSS MiB")
    for (const row of rows) console.log(row)
    console.log("goals: hashing ≥ 0.95 × plain, encryption ≥ 0.85 × plain")
  }).pipe(
    Effect.provide(
      Layer.unwrapEffect(
        Config.string("KUBECONFIG").pipe(Effect.map((kubeconfigPath) => KubeLive.layer({ kubeconfigPath })))
      )
    )
  )
