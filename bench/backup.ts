// `npm run bench -- backup [--sizes 10000,100000]`: seeds each size of namespace into a real
// control plane (ConfigMaps and Secrets of about 1 KiB, plus Deployments with their pods), then
// has one fresh process measure a raw paginated list and Ark's backup of the same objects.
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

import { Config, Effect, Layer } from "effect"

import * as KubeLive from "../layers/kube/Live.ts"
import { untilQuiet } from "./quiet.ts"
import { seed } from "./seed.ts"

interface Measurement {
  readonly objects: number
  readonly rawListPerSecond: number
  readonly backupFilesystemPerSecond: number
  readonly backupS3PerSecond: number
  readonly rawListCpuMicrosPerObject: number
  readonly backupFilesystemCpuMicrosPerObject: number
  readonly backupS3CpuMicrosPerObject: number
  readonly itemsBackedUp: number
  readonly baselineRssMiB: number
  readonly rawListPeakRssMiB: number
  readonly backupPeakRssMiB: number
  readonly processPeakRssMiB: number
}

const measure = (namespace: string, nodeOptions: ReadonlyArray<string>): Measurement => {
  const script = fileURLToPath(new URL("./measureBackup.ts", import.meta.url))
  const output = execFileSync(process.execPath, ["--expose-gc", ...nodeOptions, script, namespace], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"]
  })
  const last = output.trim().split("\n").at(-1) ?? "{}"
  return JSON.parse(last) as Measurement
}

export const benchBackup = (sizes: ReadonlyArray<number>, nodeOptions: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const rows: Array<string> = []
    for (const size of sizes) {
      // Kept between runs on one environment: seeding 100k objects takes minutes.
      const namespace = yield* seed(`bench-${size}`, size)
      yield* untilQuiet
      const m = measure(namespace, nodeOptions)
      rows.push(
        [
          String(m.objects).padStart(7),
          m.rawListPerSecond.toFixed(0).padStart(10),
          m.backupFilesystemPerSecond.toFixed(0).padStart(10),
          (m.backupFilesystemPerSecond / m.rawListPerSecond).toFixed(2).padStart(8),
          m.backupS3PerSecond.toFixed(0).padStart(10),
          (m.backupS3PerSecond / m.rawListPerSecond).toFixed(2).padStart(8),
          [m.rawListCpuMicrosPerObject, m.backupFilesystemCpuMicrosPerObject, m.backupS3CpuMicrosPerObject]
            .map((micros) => micros.toFixed(0)).join("/").padStart(14),
          m.baselineRssMiB.toFixed(0).padStart(8),
          m.rawListPeakRssMiB.toFixed(0).padStart(8),
          m.backupPeakRssMiB.toFixed(0).padStart(10),
          m.processPeakRssMiB.toFixed(0).padStart(8)
        ].join("  ")
      )
    }
    if (nodeOptions.length > 0) console.log(`measuring process: node ${nodeOptions.join(" ")}`)
    console.log("CPU: Ark's process only (the API server's is not counted), per object")
    console.log("RSS in MiB: the settled process after loading Ark, and the highest sampled during each phase")
    console.log(
      "objects  raw list/s  backup→fs/s  fs÷raw  backup→S3/s  S3÷raw  µs CPU/obj raw/fs/S3  RSS base  RSS list  RSS backup  max RSS"
    )
    for (const row of rows) console.log(row)
    console.log("targets: backup ≥ 0.8 × raw list rate; peak RSS ≤ 256 MiB at 100k objects")
  }).pipe(
    Effect.provide(
      Layer.unwrapEffect(
        Config.string("KUBECONFIG").pipe(Effect.map((kubeconfigPath) => KubeLive.layer({ kubeconfigPath })))
      )
    )
  )
