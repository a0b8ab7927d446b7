// npm run testenv -- up --dir DIR [--clusters N] | down --dir DIR
import { parseArgs } from "node:util"

import { down, envPath, up } from "./env.ts"
import { TestenvError } from "./processes.ts"

const usage = "usage: npm run testenv -- up --dir DIR [--clusters N]\n       npm run testenv -- down --dir DIR"

const main = async (): Promise<void> => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { dir: { type: "string" }, clusters: { type: "string", default: "1" } }
  })
  const [command] = positionals
  const dir = values.dir
  if (dir === undefined || (command !== "up" && command !== "down")) throw new TestenvError(usage)
  if (command === "up") {
    const env = await up({ dir, clusters: Number(values.clusters) })
    process.stdout.write(`${envPath(env.dir)}\n`)
  } else {
    await down({ dir })
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`testenv: ${e instanceof TestenvError ? e.message : e instanceof Error ? e.stack : String(e)}\n`)
  process.exit(1)
})
