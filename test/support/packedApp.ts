// A fresh application that installed Ark from its `npm pack` tarball, as a user's would, with
// examples copied in and typechecked there against the shipped declarations.
import { execFile } from "node:child_process"
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { basename, dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

export const root = fileURLToPath(new URL("../..", import.meta.url))
export const run = promisify(execFile)

// Deadlines for a loaded 2-core CI machine: a Node start-up there can take tens of seconds, a
// build or an npm install minutes.
export const nodeDeadline = 120_000
export const buildDeadline = 300_000
/** What a test that packs, installs and typechecks needs at most, before its own steps. */
export const packedAppDeadline = 3 * buildDeadline

/** npm under this test's Node (npm's own shebang finds `node` on PATH). */
const npm = (args: ReadonlyArray<string>, cwd: string) =>
  run("npm", [...args], {
    cwd,
    timeout: buildDeadline,
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env["PATH"] ?? ""}` }
  })

/** Where `ark` resolves from in `cwd`, with these Node flags. */
export const resolved = async (flags: ReadonlyArray<string>, cwd = root) =>
  (await run(process.execPath, [...flags, "--input-type=module", "-e", "console.log(import.meta.resolve('ark'))"], {
    cwd,
    timeout: nodeDeadline
  })).stdout.trim()

export interface PackedApp {
  readonly dir: string
  /** The copied examples, by their file name. */
  readonly path: (example: string) => string
  readonly remove: () => Promise<void>
}

/** Packs Ark (prepack builds dist/), installs the tarball into a new app, copies and typechecks the examples. */
export const packedApp = async (examples: ReadonlyArray<string>): Promise<PackedApp> => {
  const dir = await mkdtemp(join(tmpdir(), "ark-app-"))
  const remove = () => rm(dir, { recursive: true, force: true })
  try {
    const { stdout } = await npm(["pack", "--pack-destination", dir, "--silent"], root)
    const tarball = stdout.trim().split("\n").at(-1) ?? ""
    if (!/^ark-.*\.tgz$/.test(tarball)) throw new Error(`npm pack printed no tarball name: ${stdout}`)
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "shop", private: true, type: "module" }))
    await npm(["install", `./${tarball}`, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], dir)
    for (const example of examples) await copyFile(example, join(dir, basename(example)))
    await writeFile(
      join(dir, "tsconfig.json"),
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
        files: examples.map((example) => basename(example))
      })
    )
    await run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], {
      cwd: dir,
      timeout: buildDeadline
    })
  } catch (error) {
    await remove()
    throw error
  }
  return { dir, path: (example) => join(dir, example), remove }
}
