// The cold-build lock (lock.ts, used by buildMissing in build.ts) with fake components: no Go needed.
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { hostname, tmpdir } from "node:os"
import { join } from "node:path"

import { afterEach, beforeEach, describe, expect, it } from "vitest"

import { type Buildable, buildMissing } from "./build.ts"
import type { LockOwner } from "./lock.ts"

const fake = (name: string): Buildable => ({ name, version: "v0", minutes: 1 })
const fast = { pollMs: 20 }

/** What a real build does: temp file, then rename. */
const writeArtifact = (binDir: string, name: string, content: string): void => {
  writeFileSync(join(binDir, `.${name}.tmp`), content)
  renameSync(join(binDir, `.${name}.tmp`), join(binDir, name))
}

let root: string
let dir: string // the per-pins cache dir; its lock is `${dir}.lock` in the cache root
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "ark-lock-test-"))
  dir = join(root, "k8s-fake")
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

interface Child {
  readonly proc: ChildProcess
  readonly exited: Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>
  /** Resolves once the child's output contains `text`; rejects if it exits first or after `timeoutMs`. */
  readonly says: (stream: "stdout" | "stderr", text: string, timeoutMs?: number) => Promise<void>
}

/** A sibling module's URL as a JS string literal, for a child's import(). */
const url = (file: string): string => JSON.stringify(new URL(file, import.meta.url).href)

/** A Node child running ES module `code` (it may import the testenv modules: Node strips the types). */
const node = (code: string, args: ReadonlyArray<string> = []): Child => {
  const proc = spawn(process.execPath, ["--input-type=module", "-e", code, ...args], {
    stdio: ["ignore", "pipe", "pipe"]
  })
  const out = { stdout: "", stderr: "" }
  proc.stdout?.on("data", (b: Buffer) => (out.stdout += b.toString()))
  proc.stderr?.on("data", (b: Buffer) => (out.stderr += b.toString()))
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    proc.on("close", (code) => resolve({ code, ...out }))
  )
  const says = (stream: "stdout" | "stderr", text: string, timeoutMs = 30_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${text}" from pid ${proc.pid}: ${out.stderr}`)), timeoutMs)
      const check = (): void => {
        if (!out[stream].includes(text)) return
        clearTimeout(timer)
        resolve()
      }
      proc[stream]?.on("data", check)
      check()
      void exited.then(() => {
        clearTimeout(timer)
        if (out[stream].includes(text)) resolve()
        else reject(new Error(`pid ${proc.pid} exited before saying "${text}": ${out.stderr}`))
      })
    })
  return { proc, exited, says }
}

describe("cold-build lock", () => {
  it("two concurrent builds in one process: one builds, the other waits and returns the same result", async () => {
    const lines: Array<string> = []
    let seenWaiting!: () => void
    const waiting = new Promise<void>((resolve) => (seenWaiting = resolve))
    const say = (msg: string): void => {
      lines.push(msg)
      if (msg.startsWith(`waiting for pid ${process.pid}`)) seenWaiting()
    }
    let builds = 0
    const build = async (c: Buildable, binDir: string): Promise<undefined> => {
      builds++
      await waiting // holds the lock until the other build is seen waiting for it
      writeArtifact(binDir, c.name, `built ${builds}`)
      return undefined
    }
    const opts = { log: say, lock: fast }
    const [a, b] = await Promise.all([
      buildMissing(dir, [fake("tool")], build, opts),
      buildMissing(dir, [fake("tool")], build, opts)
    ])
    expect(builds).toBe(1)
    expect(a).toBe(b)
    expect(readFileSync(join(a, "tool"), "utf8")).toBe("built 1")
    expect(lines.filter((l) => l.startsWith("building tool v0 (1 of 1"))).toHaveLength(1)
    expect(existsSync(`${dir}.lock`)).toBe(false)
  })

  it(
    "two processes building into one cache: exactly one builds, the other waits for its pid and reuses it",
    async () => {
      const gate = join(root, "gate")
      const code = `
      import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs"
      const { buildMissing } = await import(${url("build.ts")})
      const { pollUntil } = await import(${url("processes.ts")})
      const [dir, gate] = process.argv.slice(1)
      const bin = await buildMissing(dir, [{ name: "tool", version: "v0", minutes: 1 }], async (c, binDir) => {
        appendFileSync(dir + ".builds", process.pid + "\\n")
        // Holds the lock until the test has seen the other process wait for it.
        if (!(await pollUntil(() => existsSync(gate), { timeoutMs: 30000, intervalMs: 20 }))) throw new Error("no gate")
        writeFileSync(binDir + "/.tool.tmp", "built by " + process.pid)
        renameSync(binDir + "/.tool.tmp", binDir + "/tool")
        return undefined
      }, { lock: { pollMs: 20 } })
      process.stdout.write(readFileSync(bin + "/tool", "utf8"))
    `
      const children = [node(code, [dir, gate]), node(code, [dir, gate])]
      await Promise.any(children.map((c) => c.says("stderr", "testenv: waiting for pid")))
      writeFileSync(gate, "")
      const [a, b] = await Promise.all(children.map((c) => c.exited))
      expect([a?.code, b?.code]).toEqual([0, 0])
      const builders = readFileSync(`${dir}.builds`, "utf8").trim().split("\n")
      expect(builders).toHaveLength(1)
      expect(a?.stdout).toBe(`built by ${builders[0]}`)
      expect(b?.stdout).toBe(`built by ${builders[0]}`)
      const waiter = a?.stderr.includes("waiting for pid") ? a : b
      expect(waiter?.stderr).toContain(`waiting for pid ${builders[0]}`)
      expect(waiter?.stderr).not.toContain("building tool v0")
      expect(waiter?.stderr).toContain("reusing the binaries another process built")
    },
    90_000
  )

  it("a long build says which component it builds and for how long, until it is done", async () => {
    const lines: Array<string> = []
    let sawProgress!: () => void
    const progress = new Promise<void>((resolve) => (sawProgress = resolve))
    const say = (msg: string): void => {
      lines.push(msg)
      if (lines.filter((l) => l.startsWith("building slow (") && l.includes("elapsed")).length >= 2) sawProgress()
    }
    const build = async (c: Buildable, binDir: string): Promise<undefined> => {
      if (c.name === "slow") await progress // finishes only once it has been reported twice
      writeArtifact(binDir, c.name, "ok")
      return undefined
    }
    await buildMissing(dir, [fake("quick"), fake("slow")], build, { log: say, lock: fast, progressEveryMs: 20 })
    const reports = lines.filter((l) => l.startsWith("building slow (") && l.includes("elapsed"))
    expect(reports.length).toBeGreaterThanOrEqual(2)
    for (const line of reports) {
      expect(line).toMatch(/^building slow \(2 of 2\): (\d+s|\d+m\d\ds) elapsed, ~1 min expected$/)
    }
    const built = lines.findIndex((l) => l.startsWith("built slow"))
    expect(built).toBeGreaterThan(lines.indexOf(reports.at(-1) ?? ""))
  })

  it("a lock whose owner pid has exited is taken over", async () => {
    const gone = node("")
    expect((await gone.exited).code).toBe(0)
    const pid = gone.proc.pid ?? -1
    const owner: LockOwner = { pid, host: hostname(), token: "exited", since: Date.now() }
    writeFileSync(`${dir}.lock`, JSON.stringify(owner))
    const lines: Array<string> = []
    let builds = 0
    await buildMissing(dir, [fake("tool")], async (c, binDir) => {
      builds++
      writeArtifact(binDir, c.name, "built")
      return undefined
    }, { log: (m) => lines.push(m), lock: fast })
    expect(builds).toBe(1)
    expect(lines.join("\n")).toContain(`pid ${pid} is no longer running`)
    expect(existsSync(`${dir}.lock`)).toBe(false)
  }, 60_000)

  it("a build killed while holding the lock does not block the next one", async () => {
    const holder = node(
      `
      const { withLock } = await import(${url("lock.ts")})
      setInterval(() => {}, 1000) // stays alive until killed
      await withLock(process.argv[1] + ".lock", { what: "building" }, () => {
        process.stdout.write("locked\\n")
        return new Promise(() => {})
      })
    `,
      [dir]
    )
    await holder.says("stdout", "locked")
    holder.proc.kill("SIGKILL")
    await holder.exited
    const lines: Array<string> = []
    await buildMissing(dir, [fake("tool")], async (c, binDir) => {
      writeArtifact(binDir, c.name, "built")
      return undefined
    }, { log: (m) => lines.push(m), lock: fast })
    expect(lines.join("\n")).toContain(`taking over the lock ${dir}.lock of pid ${holder.proc.pid}`)
    expect(existsSync(join(dir, "bin", "tool"))).toBe(true)
  }, 60_000)

  it("a lock from another host is taken over once its owner stops refreshing it", async () => {
    const owner: LockOwner = { pid: process.pid, host: `not-${hostname()}`, token: "remote", since: Date.now() }
    writeFileSync(`${dir}.lock`, JSON.stringify(owner))
    const lines: Array<string> = []
    await buildMissing(dir, [fake("tool")], async (c, binDir) => {
      writeArtifact(binDir, c.name, "built")
      return undefined
    }, { log: (m) => lines.push(m), lock: { ...fast, staleMs: 200 } })
    const text = lines.join("\n")
    expect(text).toContain(`waiting for pid ${process.pid} on not-${hostname()}`)
    expect(text).toContain("not refreshed for")
  }, 30_000)

  it("a failed build releases the lock, and the next one builds only what is still missing", async () => {
    const built: Array<string> = []
    const build = (fail: string) => async (c: Buildable, binDir: string): Promise<undefined> => {
      if (c.name === fail) throw new Error(`${c.name} failed`)
      built.push(c.name)
      writeArtifact(binDir, c.name, "built")
      return undefined
    }
    const tools = [fake("one"), fake("two")]
    const quiet = { log: () => {}, lock: fast }
    await expect(buildMissing(dir, tools, build("two"), quiet)).rejects.toThrow("two failed")
    expect(existsSync(`${dir}.lock`)).toBe(false)
    await buildMissing(dir, tools, build("none"), quiet)
    expect(built).toEqual(["one", "two"])
  })
})
