// `npm run bench -- transport [--sizes 2000]`: the CPU Ark's process spends per created object,
// against a plain node:https client creating the same ConfigMaps at the same concurrency, through
// Ark's KubeClient and through a whole restore (bench/measureTransport.ts), on a real control plane.
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

import { Effect } from "effect"

import { untilQuiet } from "./quiet.ts"

interface Measurement {
  readonly objects: number
  readonly cpuMillisPerItem: { readonly plain: number; readonly arkCreate: number; readonly restore: number }
  readonly wallSeconds: { readonly plain: number; readonly arkCreate: number; readonly restore: number }
}

const measure = (size: number, nodeOptions: ReadonlyArray<string>): Measurement => {
  const script = fileURLToPath(new URL("./measureTransport.ts", import.meta.url))
  const output = execFileSync(process.execPath, [...nodeOptions, script, String(size)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"]
  })
  return JSON.parse(output.trim().split("\n").at(-1) ?? "{}") as Measurement
}

export const benchTransport = (sizes: ReadonlyArray<number>, nodeOptions: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const rows: Array<string> = []
    for (const size of sizes) {
      yield* untilQuiet
      const { cpuMillisPerItem: cpu, objects, wallSeconds: wall } = measure(size, nodeOptions)
      rows.push(
        [
          String(objects).padStart(7),
          cpu.plain.toFixed(3).padStart(9),
          cpu.arkCreate.toFixed(3).padStart(10),
          cpu.restore.toFixed(3).padStart(10),
          (cpu.plain / cpu.arkCreate).toFixed(2).padStart(14),
          (cpu.plain / cpu.restore).toFixed(2).padStart(13),
          `${wall.plain.toFixed(1)} / ${wall.arkCreate.toFixed(1)} / ${wall.restore.toFixed(1)}`.padStart(20)
        ].join("  ")
      )
    }
    console.log(
      "objects  plain ms  create ms  restore ms  plain÷create  plain÷restore  wall s plain/create/restore"
    )
    for (const row of rows) console.log(row)
    console.log("CPU milliseconds of this process per object; target: restore ≥ 0.9 × plain (in items per CPU second)")
  })
