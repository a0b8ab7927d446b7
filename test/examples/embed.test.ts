// examples/embed.ts is run as its own Node program, importing Ark through the package's exports
// as another application would: once from the TypeScript sources (the `ark-source` condition, as in
// this repository) and once from the compiled dist/ that `npm pack` ships. tsc checks it too.
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { mkdtemp, readdir, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const root = fileURLToPath(new URL("../..", import.meta.url))
const example = join(root, "examples", "embed.ts")
const run = promisify(execFile)

/** Runs the example with these Node flags and checks what it prints and stores. */
const runExample = async (flags: ReadonlyArray<string>) => {
  const dir = await mkdtemp(join(tmpdir(), "ark-embed-test-"))
  try {
    const { stdout } = await run(process.execPath, [...flags, example, dir], { cwd: root, timeout: 60_000 })
    const lines = stdout.trim().split("\n")
    assert.deepStrictEqual(lines[0], "backup shop-backup: Completed (4 items)")
    assert.include(lines[1] ?? "", "backups/shop-backup/ark-backup.json")
    assert.match(lines[2] ?? "", /^restore shop-copy: Completed \(\d+ created\)$/)
    assert.deepStrictEqual(lines[3], "shop-copy configmaps: cart, catalog, checkout")
    const stored = await readdir(dir, { recursive: true })
    assert.isTrue(stored.some((path) => path.endsWith("ark-backup.json")), stored.join(", "))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const resolved = async (flags: ReadonlyArray<string>) =>
  (await run(process.execPath, [...flags, "--input-type=module", "-e", "console.log(import.meta.resolve('ark'))"], { cwd: root })).stdout.trim()

describe("examples/embed.ts", () => {
  it("backs up and restores through Ark's exported programs and layers, from the sources", async () => {
    assert.match(await resolved(["--conditions=ark-source"]), /\/src\/index\.ts$/)
    await runExample(["--conditions=ark-source"])
  }, 90_000)

  it("does the same from the compiled package (dist/, built by npm run build)", async () => {
    await run(join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], { cwd: root, timeout: 120_000 })
    assert.match(await resolved([]), /\/dist\/src\/index\.js$/)
    await runExample([])
  }, 180_000)
})
