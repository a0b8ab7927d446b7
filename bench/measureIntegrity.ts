// One process backs up the same namespace to S3 (MinIO) three ways, round after round in a rotating
// order: plain (hashing off, the benchmark-only switch), hashing on (the shipped default), and
// hashing with age encryption. Prints one JSON line of each way's best rate, its least CPU time
// (steadier than wall time on a loaded machine: waiting on other processes costs no CPU) and peak RSS.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { generateX25519Identity, identityToRecipient } from "age-encryption"
import { Config, Effect, Layer } from "effect"

import * as KubeLive from "../layers/kube/Live.ts"
import type { BackupDeps } from "../src/backup/run.ts"
import { backupOnce } from "./backupOnce.ts"
import { measured } from "./measured.ts"
import { minioStore } from "./minio.ts"

const rounds = Number(process.argv[3] ?? "5")

const program = Effect.gen(function*() {
  const namespace = process.argv[2] ?? ""
  const recipient = yield* Effect.promise(() => generateX25519Identity().then((key) => identityToRecipient(key)))
  const ways: ReadonlyArray<readonly [string, Partial<BackupDeps>]> = [
    ["plain", { digests: false }],
    ["hashing", {}],
    ["encryption", { recipients: [recipient] }]
  ]
  const best = new Map<string, { seconds: number; cpuSeconds: number; items: number; peakRssMiB: number }>()
  // A first backup warms the JIT and the connections; it is not counted.
  yield* backupOnce(namespace, `bench-warm-${process.pid}`)
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < ways.length; i++) {
      const [way, options] = ways[(round + i) % ways.length]!
      const cpu = process.cpuUsage()
      const run = yield* measured(backupOnce(namespace, `bench-${way}-${round}-${process.pid}`, options))
      const used = process.cpuUsage(cpu)
      const seen = best.get(way)
      best.set(way, {
        seconds: Math.min(seen?.seconds ?? Infinity, run.seconds),
        cpuSeconds: Math.min(seen?.cpuSeconds ?? Infinity, (used.user + used.system) / 1e6),
        items: run.value,
        peakRssMiB: Math.max(seen?.peakRssMiB ?? 0, run.peakRssMiB)
      })
    }
  }
  const rate = (way: string) => {
    const m = best.get(way)!
    return { ...m, perSecond: m.items / m.seconds, perCpuSecond: m.items / m.cpuSeconds }
  }
  console.log(
    JSON.stringify({ rounds, plain: rate("plain"), hashing: rate("hashing"), encryption: rate("encryption") })
  )
})

program.pipe(
  Effect.provide(minioStore(`bench-integrity-${process.pid}`)),
  Effect.provide(
    Layer.unwrapEffect(
      Config.string("KUBECONFIG").pipe(Effect.map((kubeconfigPath) => KubeLive.layer({ kubeconfigPath })))
    )
  ),
  Effect.orDie,
  NodeRuntime.runMain
)
