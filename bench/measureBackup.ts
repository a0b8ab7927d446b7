// One process measures, over the same namespace: a raw paginated list of every object Ark would
// read (the baseline), then Ark's backup of it to a filesystem store and to S3 (MinIO), then the
// raw list again. Prints one JSON line of rates and peak RSS for bench/backup.ts to compare.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Config, Effect, Layer } from "effect"

import * as KubeLive from "../layers/kube/Live.ts"
import * as FilesystemStore from "../layers/objectstore/Filesystem.ts"
import { backupOnce } from "./backupOnce.ts"
import { measured, rssMiB } from "./measured.ts"
import { minioStore } from "./minio.ts"
import { rawList } from "./seed.ts"

const s3Layer = minioStore(`bench-${process.pid}`)

const program = Effect.gen(function*() {
  const namespace = process.argv[2] ?? ""
  const root = mkdtempSync(join(tmpdir(), "ark-bench-"))
  // Settled RSS with every module loaded: what the process costs before it reads anything.
  global.gc?.()
  const baselineRssMiB = rssMiB()
  const rawFirst = yield* measured(rawList(namespace))
  const toFilesystem = yield* measured(backupOnce(namespace, `bench-fs-${process.pid}`)).pipe(
    Effect.provide(FilesystemStore.layer({ root }))
  )
  const toS3 = yield* measured(backupOnce(namespace, `bench-s3-${process.pid}`)).pipe(Effect.provide(s3Layer))
  const rawSecond = yield* measured(rawList(namespace))
  rmSync(root, { recursive: true, force: true })
  const raw = rawFirst.seconds < rawSecond.seconds ? rawFirst : rawSecond
  console.log(
    JSON.stringify({
      objects: raw.value,
      rawListPerSecond: raw.value / raw.seconds,
      backupFilesystemPerSecond: toFilesystem.value / toFilesystem.seconds,
      backupS3PerSecond: toS3.value / toS3.seconds,
      rawListCpuMicrosPerObject: (raw.cpuSeconds * 1e6) / raw.value,
      backupFilesystemCpuMicrosPerObject: (toFilesystem.cpuSeconds * 1e6) / toFilesystem.value,
      backupS3CpuMicrosPerObject: (toS3.cpuSeconds * 1e6) / toS3.value,
      itemsBackedUp: toFilesystem.value,
      baselineRssMiB,
      rawListPeakRssMiB: Math.max(rawFirst.peakRssMiB, rawSecond.peakRssMiB),
      backupPeakRssMiB: Math.max(toFilesystem.peakRssMiB, toS3.peakRssMiB),
      processPeakRssMiB: process.resourceUsage().maxRSS / 1024
    })
  )
})

program.pipe(
  Effect.provide(
    Layer.unwrapEffect(
      Config.string("KUBECONFIG").pipe(Effect.map((kubeconfigPath) => KubeLive.layer({ kubeconfigPath })))
    )
  ),
  Effect.orDie,
  NodeRuntime.runMain
)
