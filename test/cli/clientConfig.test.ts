// `ark client config`, and which namespace a command uses: --namespace, else $ARK_NAMESPACE, else
// the client config, else heptio-ark. `ark install --dry-run` shows the namespace without a cluster.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

import { describe, expect, it } from "@effect/vitest"

import { arkVersion } from "../../src/version.ts"
import { arkWithEnv } from "../support/arkProcess.ts"

/** A fresh home and no kubeconfig, no XDG dir, no ARK_NAMESPACE: only what a test adds. */
const freshEnv = (extra: NodeJS.ProcessEnv = {}) => {
  const { ARK_NAMESPACE: _ns, KUBECONFIG: _kubeconfig, XDG_CONFIG_HOME: _xdg, ...env } = process.env
  const home = mkdtempSync(join(tmpdir(), "ark-home-"))
  return { env: { ...env, HOME: home, ...extra }, home }
}

const installNamespace = (env: NodeJS.ProcessEnv, ...flags: ReadonlyArray<string>) => {
  const run = arkWithEnv(env, "install", "--dry-run", "-o", "yaml", ...flags)
  expect(run.status, run.stderr).toBe(0)
  const namespaces = new Set([...run.stdout.matchAll(/^\s+namespace: (\S+)$/gm)].map((match) => match[1]))
  expect(namespaces.size, run.stdout).toBe(1)
  return [...namespaces][0]
}

describe("ark client config", () => {
  it("set writes ~/.config/ark/config.json and get prints it", () => {
    const { env, home } = freshEnv()
    const set = arkWithEnv(env, "client", "config", "set", "namespace=ops")
    expect(set.status, set.stderr).toBe(0)
    const file = join(home, ".config", "ark", "config.json")
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ namespace: "ops" })
    const get = arkWithEnv(env, "client", "config", "get")
    expect(get.status, get.stderr).toBe(0)
    expect(get.stdout.trim()).toBe("namespace: ops")
  })

  it("uses $XDG_CONFIG_HOME when it is set, and an empty value removes a setting", () => {
    const xdg = mkdtempSync(join(tmpdir(), "ark-xdg-"))
    const { env, home } = freshEnv({ XDG_CONFIG_HOME: xdg })
    expect(arkWithEnv(env, "client", "config", "set", "namespace=ops").status).toBe(0)
    expect(existsSync(join(xdg, "ark", "config.json"))).toBe(true)
    expect(existsSync(join(home, ".config", "ark", "config.json"))).toBe(false)
    expect(arkWithEnv(env, "client", "config", "set", "namespace=").status).toBe(0)
    expect(JSON.parse(readFileSync(join(xdg, "ark", "config.json"), "utf8"))).toEqual({})
    expect(arkWithEnv(env, "client", "config", "get").stdout).toContain("No client settings")
  })

  it.each([
    [["foo=bar"], "error: foo is not a client setting", "hint: the settings are: namespace"],
    [["namespace=Bad_NS"], "error: namespace: \"Bad_NS\" is not allowed", "hint: for example: ark client config set"],
    [["namespace"], "error: \"namespace\" is not KEY=VALUE", "hint: for example: ark client config set namespace="],
    [["namespace=ok", "colour=red"], "error: colour is not a client setting", "hint:"]
  ])("set %j is refused with one line and a hint, and writes nothing", (settings, message, hint) => {
    const { env, home } = freshEnv()
    const run = arkWithEnv(env, "client", "config", "set", ...settings)
    expect(run.status).not.toBe(0)
    expect(run.stderr).toContain(message)
    expect(run.stderr).toContain(hint)
    expect(existsSync(join(home, ".config", "ark", "config.json"))).toBe(false)
  })
})

describe("the namespace in use", () => {
  it("is heptio-ark by default", () => {
    expect(installNamespace(freshEnv().env)).toBe("heptio-ark")
  })

  it("is the client config's, then $ARK_NAMESPACE's, then --namespace's, in rising precedence", () => {
    const { env } = freshEnv()
    expect(arkWithEnv(env, "client", "config", "set", "namespace=from-config").status).toBe(0)
    expect(installNamespace(env)).toBe("from-config")
    const withEnv = { ...env, ARK_NAMESPACE: "from-env" }
    expect(installNamespace(withEnv)).toBe("from-env")
    expect(installNamespace(withEnv, "-n", "from-flag")).toBe("from-flag")
    expect(installNamespace(withEnv, "--namespace", "from-flag")).toBe("from-flag")
  })

  it("refuses a bad name from $ARK_NAMESPACE or --namespace, naming where it came from", () => {
    const { env } = freshEnv({ ARK_NAMESPACE: "Not_A_Namespace" })
    const fromEnv = arkWithEnv(env, "backup", "get")
    expect(fromEnv.status).not.toBe(0)
    expect(fromEnv.stderr).toContain("error: ARK_NAMESPACE: \"Not_A_Namespace\" is not a namespace name")
    expect(fromEnv.stderr).toContain("hint:")
    const fromFlag = arkWithEnv(env, "backup", "get", "-n", "-bad-")
    expect(fromFlag.status).not.toBe(0)
    expect(fromFlag.stderr).toContain("error: --namespace: \"-bad-\" is not a namespace name")
  })

  it("refuses a client config file that is not Ark's, naming the file", () => {
    const { env, home } = freshEnv()
    mkdirSync(join(home, ".config", "ark"), { recursive: true })
    const file = join(home, ".config", "ark", "config.json")
    writeFileSync(file, "[1, 2]")
    const run = arkWithEnv(env, "backup", "get")
    expect(run.status).not.toBe(0)
    expect(run.stderr).toContain(`error: cannot read the client config ${file}`)
    expect(run.stderr).toContain("hint: fix or remove it")
    writeFileSync(file, JSON.stringify({ namespace: "UPPER" }))
    expect(arkWithEnv(env, "backup", "get").stderr).toContain("namespace \"UPPER\"")
  })
})

describe("ark version", () => {
  /** A kubeconfig whose API server accepts connections and never answers: the test's event loop is blocked. */
  const withHungServer = <A>(f: (kubeconfig: string) => A): Promise<A> =>
    new Promise((resolve, reject) => {
      const server = createServer(() => {})
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        const kubeconfig = join(mkdtempSync(join(tmpdir(), "ark-kube-")), "config")
        writeFileSync(
          kubeconfig,
          [
            "apiVersion: v1",
            "kind: Config",
            "clusters: [{name: c, cluster: {server: \"https://127.0.0.1:" + port +
            "\", insecure-skip-tls-verify: true}}]",
            "users: [{name: u, user: {token: t}}]",
            "contexts: [{name: x, context: {cluster: c, user: u}}]",
            "current-context: x"
          ].join("\n")
        )
        try {
          resolve(f(kubeconfig))
        } catch (error) {
          reject(error)
        } finally {
          server.close()
        }
      })
    })

  it("--client-only prints the client's version and does not touch the cluster", async () => {
    const run = await withHungServer((kubeconfig) =>
      arkWithEnv({ ...freshEnv().env, KUBECONFIG: kubeconfig }, "version", "--client-only")
    )
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^ark \d+\.\d+\.\d+/)
    expect(run.stdout).not.toContain("server")
  })

  it("ark --version prints the version and nothing else: exactly one line", () => {
    const run = arkWithEnv(freshEnv().env, "--version")
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toBe(`${arkVersion}\n`)
  })

  it("without a reachable server prints the client's version and a one-line note, and exits 0", async () => {
    const run = await withHungServer((kubeconfig) => arkWithEnv(freshEnv().env, "version", "--kubeconfig", kubeconfig))
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^ark \d+\.\d+\.\d+/)
    expect(run.stdout).toMatch(/^server: could not be reached: no answer within 5s$/m)
    const noKubeconfig = arkWithEnv(freshEnv().env, "version")
    expect(noKubeconfig.status).toBe(0)
    expect(noKubeconfig.stdout).toMatch(/^server: could not be reached: no kubeconfig found/m)
  })
})
