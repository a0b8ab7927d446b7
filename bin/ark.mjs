#!/usr/bin/env node
// The `ark` bin. It runs the bundle in dist/cli (scripts/bundle.ts; `npm run build`, and every npm
// script, build it) when it is newer than the sources, and the TypeScript sources themselves
// otherwise (Node >= 22.19 strips their types), so an edited tree never runs stale code. Under an
// older Node it re-runs itself through scripts/with-node, which provisions Node 24.
import { existsSync, readdirSync, statSync } from "node:fs"
import * as nodeModule from "node:module"
import { fileURLToPath } from "node:url"

// V8 keeps the compiled bundle on disk (in the OS temp dir) between runs: compiling the JavaScript a
// start loads (~0.8 MB) was the largest single cost of a start. Absent before Node 22.1, a no-op.
nodeModule.enableCompileCache?.()

const root = new URL("../", import.meta.url)
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number)

/** The newest modification time of the TypeScript files below `dir`. */
const newestIn = (dir) => {
  let newest = 0
  // By hand: readdirSync's own `recursive` costs ~9 MiB of RSS, as much as the rest of `ark version`.
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) newest = Math.max(newest, newestIn(path))
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

/** The newest modification time of the sources the bundle is built from. */
const newestSource = () =>
  Math.max(
    statSync(new URL("package.json", root)).mtimeMs,
    ...["src", "layers", "services"].map((dir) => newestIn(fileURLToPath(new URL(dir, root))))
  )

const bundle = new URL("dist/cli/main.js", root)
const main = existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource()
  ? bundle
  : new URL("src/cli/main.ts", root)

/**
 * `ark server` bounds V8's young generation. By default V8 grows each semi-space to 16–32 MiB (64
 * MiB and more of RSS for garbage that dies young anyway); 4 MiB keeps an idle server near 118 MiB
 * (2 MiB: 113, 8 MiB: 125), and larger ones did not make restores measurably faster on a loaded
 * 2-core machine. Node reads heap sizes only at start, so the process replaces itself (execve keeps
 * the PID that a supervisor or a benchmark watches). A flag the user set wins. The old generation's
 * growth is set by the server command itself (src/cli/commands/server.ts).
 */
const serverHeapFlags = ["--max-semi-space-size=4"]
const heapFlagsSet = (process.env["NODE_OPTIONS"] ?? "").includes("semi-space") ||
  process.execArgv.some((flag) => flag.includes("semi-space"))

if (major < 22 || (major === 22 && minor < 19)) {
  const withNode = fileURLToPath(new URL("scripts/with-node", root))
  // Imported here: child_process (and the net and dgram it loads) cost every other start ~5 ms.
  const { spawnSync } = await import("node:child_process")
  const run = spawnSync(withNode, ["node", fileURLToPath(main), ...process.argv.slice(2)], { stdio: "inherit" })
  process.exit(run.status ?? 1)
} else if (process.argv[2] === "server" && !heapFlagsSet && typeof process.execve === "function") {
  process.execve(process.execPath, [
    process.execPath,
    ...process.execArgv,
    ...serverHeapFlags,
    fileURLToPath(main),
    ...process.argv.slice(2)
  ], process.env) // Node 24.9's execve passes an empty environment when none is given.
} else {
  await import(main.href)
}
