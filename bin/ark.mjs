#!/usr/bin/env node
// The `ark` bin. Ark's sources are TypeScript run by Node's own type stripping (Node >= 22.19);
// under an older Node it re-runs itself through scripts/with-node, which provisions Node 24.
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const main = new URL("../src/cli/main.ts", import.meta.url)
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number)

if (major > 22 || (major === 22 && minor >= 19)) {
  await import(main.href)
} else {
  const withNode = fileURLToPath(new URL("../scripts/with-node", import.meta.url))
  const run = spawnSync(withNode, ["node", fileURLToPath(main), ...process.argv.slice(2)], { stdio: "inherit" })
  process.exit(run.status ?? 1)
}
