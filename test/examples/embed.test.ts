// examples/embed.ts is run as its own Node program, importing Ark through the package's exports
// as another application would: from the TypeScript sources (the `ark-source` condition, as in
// this repository), from the compiled dist/ in place, and from the `npm pack` tarball installed
// into a fresh application, where tsc also checks it against the shipped declarations.
import { execFile } from "node:child_process"
import { copyFile, mkdtemp, readdir, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

import { assert, describe, it } from "@effect/vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))
const example = join(root, "examples", "embed.ts")
const run = promisify(execFile)

// Deadlines for a loaded 2-core CI machine: a Node start-up there can take tens of seconds, a
// build or an npm install minutes. Each test's own timeout is above the sum of its steps' deadlines.
const nodeDeadline = 120_000
const buildDeadline = 300_000

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

const resolved = async (flags: ReadonlyArray<string>, cwd = root) =>
  (await run(process.execPath, [...flags, "--input-type=module", "-e", "console.log(import.meta.resolve('ark'))"], {
    cwd,
    timeout: nodeDeadline
  })).stdout.trim()

/** npm under this test's Node (npm's own shebang finds `node` on PATH). */
const npm = (args: ReadonlyArray<string>, cwd: string) =>
  run("npm", [...args], {
    cwd,
    timeout: buildDeadline,
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env["PATH"] ?? ""}` }
  })

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
    const app = await mkdtemp(join(tmpdir(), "ark-embed-app-"))
    try {
      const { stdout } = await npm(["pack", "--pack-destination", app, "--silent"], root)
      const tarball = stdout.trim().split("\n").at(-1) ?? ""
      assert.match(tarball, /^ark-.*\.tgz$/)
      await writeFile(join(app, "package.json"), JSON.stringify({ name: "shop", private: true, type: "module" }))
      await npm(["install", `./${tarball}`, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], app)
      assert.strictEqual(await resolved([], app), `file://${app}/node_modules/ark/dist/src/index.js`)

      await copyFile(example, join(app, "embed.ts"))
      await writeFile(
        join(app, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "es2023",
            module: "nodenext",
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            types: ["node"],
            typeRoots: [join(root, "node_modules", "@types")]
          },
          files: ["embed.ts"]
        })
      )
      await run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], {
        cwd: app,
        timeout: buildDeadline
      })
      await runExample([], { cwd: app, example: join(app, "embed.ts") })
    } finally {
      await rm(app, { recursive: true, force: true })
    }
  }, 3 * buildDeadline + 2 * nodeDeadline + 60_000)
})
