// Child-process helpers: run a tool to completion, start a detached daemon, wait for health,
// stop by pid. Daemons get their own process group so `up` can exit and leave them running.
import { spawn, spawnSync } from "node:child_process"
import { closeSync, existsSync, openSync, readFileSync } from "node:fs"
import type { Server } from "node:net"
import { createServer } from "node:net"
import { join } from "node:path"

export class TestenvError extends Error {
  override name = "TestenvError"
}

export interface StartedProcess {
  readonly name: string
  readonly pid: number
}

export const log = (msg: string): void => {
  process.stderr.write(`testenv: ${msg}\n`)
}

/** Fails with a fix hint when a required CLI tool is not on PATH. */
export const requireTool = (tool: string, why: string, fix: string): void => {
  const r = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" })
  if (r.status !== 0) throw new TestenvError(`${tool} is required (${why}) but not found on PATH: ${fix}`)
}

export interface RunOptions {
  readonly cwd?: string
  readonly env?: NodeJS.ProcessEnv
  /** Component name used in error messages. */
  readonly component: string
}

/** Runs a command to completion (output captured); rejects with the tail of its output. */
export const run = (cmd: string, args: ReadonlyArray<string>, opts: RunOptions): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] })
    const out: Array<Buffer> = []
    child.stdout.on("data", (b: Buffer) => out.push(b))
    child.stderr.on("data", (b: Buffer) => out.push(b))
    child.on("error", (e) => reject(new TestenvError(`${opts.component}: cannot run ${cmd}: ${e.message}`)))
    child.on("close", (code) => {
      const text = Buffer.concat(out).toString("utf8")
      if (code === 0) resolve(text)
      else {
        reject(
          new TestenvError(
            `${opts.component}: \`${cmd} ${args.join(" ")}\` failed (exit ${code}):\n${tail(text, 40)}`
          )
        )
      }
    })
  })

export const tail = (text: string, lines: number): string => text.split("\n").slice(-lines - 1).join("\n")

/** Starts a long-running process detached, output to logsDir/<name>.log. Returns its pid. */
export const startDaemon = (
  name: string,
  cmd: string,
  args: ReadonlyArray<string>,
  logsDir: string,
  env: NodeJS.ProcessEnv = process.env
): number => {
  const fd = openSync(join(logsDir, `${name}.log`), "a")
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ["ignore", fd, fd], env })
    if (child.pid === undefined) throw new TestenvError(`${name}: failed to start ${cmd}`)
    child.unref()
    return child.pid
  } finally {
    closeSync(fd)
  }
}

export const logTail = (logsDir: string, name: string): string => {
  const f = join(logsDir, `${name}.log`)
  return existsSync(f) ? tail(readFileSync(f, "utf8"), 40) : "(no log)"
}

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Polls `check` until it returns true or the deadline passes. Fails early if the daemon died.
 * On failure the error names the component and carries the last 40 lines of its log.
 */
export const waitHealthy = async (
  name: string,
  pid: number,
  logsDir: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000
): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  let lastError = ""
  for (let delay = 50;; delay = Math.min(delay * 2, 500)) {
    try {
      if (await check()) return
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e)
    }
    const dead = !isAlive(pid)
    if (dead || Date.now() > deadline) {
      const why = dead ? "exited" : `not healthy after ${timeoutMs / 1000}s${lastError ? ` (${lastError})` : ""}`
      throw new TestenvError(
        `${name} ${why}; last lines of ${join(logsDir, `${name}.log`)}:\n${logTail(logsDir, name)}`
      )
    }
    await sleep(delay)
  }
}

/** SIGTERM the process group, wait up to the deadline, then SIGKILL. */
export const stopPid = async (pid: number, timeoutMs = 10_000): Promise<void> => {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig) // its own group (started detached)
    } catch {
      try {
        process.kill(pid, sig)
      } catch {
        /* already gone */
      }
    }
  }
  if (!isAlive(pid)) return
  signal("SIGTERM")
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid) && Date.now() < deadline) await sleep(50)
  if (isAlive(pid)) signal("SIGKILL")
  while (isAlive(pid)) await sleep(20)
}

/** Picks n distinct free loopback ports (held open together so they differ). */
export const freePorts = async (n: number): Promise<Array<number>> => {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const s = createServer()
          s.once("error", reject)
          s.listen(0, "127.0.0.1", () => resolve(s))
        })
    )
  )
  const ports = servers.map((s) => {
    const a = s.address()
    if (a === null || typeof a === "string") throw new TestenvError("cannot allocate a port")
    return a.port
  })
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))))
  return ports
}
