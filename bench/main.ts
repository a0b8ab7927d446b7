// `npm run bench -- <name> [--sizes a,b] [--node-options="..."]`: brings a test environment up (or
// reuses ARK_TESTENV_DIR), runs the named benchmark against it, and prints ratios measured in one
// run (`fixed`: the fixed cost of a small backup, step by step; `transport`: CPU per created object;
// `integrity`: hashing and age encryption against a plain backup). --node-options are V8/Node flags
// for the measuring process (e.g. a heap cap).
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"

import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect } from "effect"

import { down, readEnv, up } from "../test/testenv/env.ts"
import { benchBackup } from "./backup.ts"
import { benchCli } from "./cli.ts"
import { benchFixedCost } from "./fixedCost.ts"
import { benchIntegrity } from "./integrity.ts"
import { benchRestore } from "./restore.ts"
import { benchScale } from "./scale.ts"
import { benchTransport } from "./transport.ts"

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { sizes: { type: "string" }, "node-options": { type: "string" } }
})
const benchmarks = {
  backup: benchBackup,
  cli: benchCli,
  fixed: benchFixedCost,
  integrity: benchIntegrity,
  restore: benchRestore,
  scale: benchScale,
  transport: benchTransport
} as const
const name = positionals[0] ?? ""
if (!(name in benchmarks)) {
  console.error(
    `usage: npm run bench -- ${
      Object.keys(benchmarks).join("|")
    } [--sizes 10000,100000] [--node-options="--max-old-space-size=192"]`
  )
  process.exit(2)
}
const defaultSizes = {
  backup: "10000,100000",
  cli: "0",
  fixed: "10",
  integrity: "10000",
  restore: "10000",
  scale: "10000,100000,300000",
  transport: "2000"
} as const
const sizes = (values.sizes ?? defaultSizes[name as keyof typeof defaultSizes]).split(",").map(Number)
const nodeOptions = (values["node-options"] ?? "").split(" ").filter((flag) => flag !== "")

const environment = Effect.acquireRelease(
  Effect.promise(async () => {
    const reuse = process.env["ARK_TESTENV_DIR"]
    if (reuse !== undefined) return { env: readEnv(reuse), owned: false }
    return { env: await up({ dir: mkdtempSync(join(tmpdir(), "ark-bench-env-")), clusters: 1 }), owned: true }
  }),
  ({ env, owned }) => (owned ? Effect.promise(() => down({ dir: env.dir })) : Effect.void)
)

Effect.gen(function*() {
  const { env } = yield* environment
  Object.assign(process.env, env.vars)
  yield* benchmarks[name as keyof typeof benchmarks](sizes, nodeOptions)
}).pipe(Effect.scoped, NodeRuntime.runMain)
