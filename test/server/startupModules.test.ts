// What `ark server` and `ark version` load before they do anything: client-node (~60 MiB) and the
// AWS SDKs are imported only when a hook runs or an S3/EBS location is opened, and the HTTP
// endpoint does without @effect/platform's router and server.
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

import { assert, describe, it } from "vitest"

const root = fileURLToPath(new URL("../../", import.meta.url))

/**
 * The modules of npm packages ("package path") a fresh Node process loads while importing `entry`,
 * and Node's own modules ("node:child_process") beyond those a bare `node` has loaded.
 */
const loadedBy = (entry: string, args: ReadonlyArray<string> = []) => {
  const script = `
    import { registerHooks } from "node:module"
    const seen = new Set()
    registerHooks({ load(url, context, next) {
      const match = /node_modules\\/((@[^/]+\\/)?[^/]+)\\/(.*)/.exec(url)
      if (match) seen.add(match[1] + " " + match[3])
      return next(url, context)
    } })
    const builtins = () => process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => "node:" + m.slice(13))
    const before = new Set(builtins())
    process.argv.splice(2, process.argv.length, ...${JSON.stringify(args)})
    process.on("exit", () => process.stderr.write("LOADED " + JSON.stringify({ modules: [...seen], builtins: builtins().filter((m) => !before.has(m)) }) + "\\n"))
    await import(${JSON.stringify(new URL(entry, `file://${root}`).href)})
  `
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000
  })
  const line = run.stderr.split("\n").find((l) => l.startsWith("LOADED "))
  assert.isDefined(line, `no module list; stderr: ${run.stderr}`)
  return JSON.parse(line!.slice("LOADED ".length)) as {
    readonly modules: ReadonlyArray<string>
    readonly builtins: ReadonlyArray<string>
  }
}

const modulesLoadedBy = (entry: string, args: ReadonlyArray<string> = []) => loadedBy(entry, args).modules

const packagesOf = (modules: ReadonlyArray<string>) => [...new Set(modules.map((module) => module.split(" ")[0]))]

const heavy = ["@kubernetes/client-node", "@aws-sdk/client-s3", "@aws-sdk/client-ec2", "@aws-sdk/lib-storage"]

describe("start-up modules", () => {
  it("the server's modules load neither client-node nor the AWS SDKs nor @effect/platform's HTTP server", () => {
    const modules = modulesLoadedBy("src/server/main.ts")
    const loaded = packagesOf(modules)
    assert.include(loaded, "effect")
    for (const name of heavy) assert.notInclude(loaded, name)
    assert.deepStrictEqual(modules.filter((module) => /Http(Server|Router)/.test(module)), [])
  })

  it("`ark version` loads neither client-node nor the AWS SDKs", () => {
    const loaded = packagesOf(modulesLoadedBy("src/cli/main.ts", ["version"]))
    assert.include(loaded, "@effect/cli")
    for (const name of heavy) assert.notInclude(loaded, name)
  })

  it("`ark version`, through bin/ark.mjs as shipped, loads neither child_process nor v8", () => {
    const { builtins } = loadedBy("bin/ark.mjs", ["version", "--client-only"])
    assert.include(builtins, "node:readline") // @effect/cli's Terminal: the list is read
    for (const name of ["node:child_process", "node:v8"]) assert.notInclude(builtins, name)
  })
})
