// examples/embed.ts is run as its own Node program, importing Ark through the package's exports
// as another application would: from the TypeScript sources (the `ark-source` condition, as in
// this repository), from the compiled dist/ in place, and from the `npm pack` tarball installed
// into a fresh application, where tsc also checks it against the shipped declarations.
import { mkdtemp, readdir, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

import { assert, describe, it } from "@effect/vitest"

import { buildDeadline, nodeDeadline, packedApp, packedAppDeadline, resolved, root, run } from "../support/packedApp.ts"

const example = join(root, "examples", "embed.ts")

/** Runs the example with these Node flags and checks what it prints and stores. */
const runExample = async (flags: ReadonlyArray<string>, app = { cwd: root, example }) => {
  const dir = await mkdtemp(join(tmpdir(), "ark-embed-test-"))
  try {
    const { stdout } = await run(process.execPath, [...flags, app.example, dir], {
      cwd: app.cwd,
      timeout: nodeDeadline
    })
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

describe("examples/embed.ts", () => {
  it("backs up and restores through Ark's exported programs and layers, from the sources", async () => {
    assert.match(await resolved(["--conditions=ark-source"]), /\/src\/index\.ts$/)
    await runExample(["--conditions=ark-source"])
  }, 2 * nodeDeadline + 60_000)

  it("does the same from the compiled package (dist/, built by npm run build)", async () => {
    await run(join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], {
      cwd: root,
      timeout: buildDeadline
    })
    assert.match(await resolved([]), /\/dist\/src\/index\.js$/)
    await runExample([])
  }, buildDeadline + 2 * nodeDeadline + 60_000)

  it("does the same in a fresh application that installed the npm pack tarball, typechecked there", async () => {
    const app = await packedApp([example])
    try {
      assert.strictEqual(await resolved([], app.dir), `file://${app.dir}/node_modules/ark/dist/src/index.js`)
      await runExample([], { cwd: app.dir, example: app.path("embed.ts") })
    } finally {
      await app.remove()
    }
  }, packedAppDeadline + 2 * nodeDeadline + 60_000)
})
