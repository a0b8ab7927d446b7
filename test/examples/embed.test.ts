// examples/embed.ts is run as its own Node program, importing Ark through the package's exports
// as another application would; tsc typechecks it with the rest of the tree.
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { mkdtemp, readdir, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const example = fileURLToPath(new URL("../../examples/embed.ts", import.meta.url))

describe("examples/embed.ts", () => {
  it("backs up and restores through Ark's exported programs and layers", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ark-embed-test-"))
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [example, dir], { timeout: 60_000 })
      const lines = stdout.trim().split("\n")
      assert.deepStrictEqual(lines[0], "backup shop-backup: Completed (4 items)")
      assert.include(lines[1] ?? "", "backups/shop-backup/ark-backup.json")
      assert.match(lines[2] ?? "", /^restore shop-copy: Completed \(\d+ created\)$/)
      assert.deepStrictEqual(lines[3], "shop-copy configmaps: cart, catalog, checkout")
      // The storage directory it was given holds the committed backup.
      const stored = await readdir(dir, { recursive: true })
      assert.isTrue(stored.some((path) => path.endsWith("ark-backup.json")), stored.join(", "))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 90_000)
})
