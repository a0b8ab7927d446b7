// Child-process helpers: run a tool to completion, start a detached daemon, wait for health,
// stop by pid. Daemons get their own process group so `up` can exit and leave them running.
import { spawn, spawnSync } from "node:child_process"
import { closeSync, existsSync, openSync, readFileSync } from "node:fs"
import type { Server } from "node:net"
import { createServer } from "node:net"
import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"

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

/**
 * Calls `check` until it returns true (resolves true) or `timeoutMs` has passed (resolves false),
 * sleeping `intervalMs` between calls, doubling up to `maxIntervalMs`. The one place in testenv that keeps a deadline;
 * performance.now() is monotonic, so a clock step cannot cut a wait short or make it endless.
 */
export const pollUntil = async (
  check: () => boolean | Promise<boolean>,
  opts: { readonly timeoutMs: number; readonly intervalMs: number; readonly maxIntervalMs?: number }
): Promise<boolean> => {
  const deadline = performance.now() + opts.timeoutMs
  for (let delay = opts.intervalMs;; delay = Math.min(delay * 2, opts.maxIntervalMs ?? opts.intervalMs)) {
    if (await check()) return true
    const left = deadline - performance.now()
    if (left <= 0) return false
    await sleep(Math.min(delay, left)) // the last check falls on the deadline, not after it
  }
}

/** 45s, 2m30s, 1h05m. */
export const formatDuration = (ms: number): string => {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`
}

/** Logs `line(elapsed)` every `everyMs` while `body` runs, so a long silent step is not taken for a hang. */
export const withProgress = async <A>(
  line: (elapsed: string) => string,
  body: () => Promise<A>,
  opts: { readonly everyMs?: number; readonly log?: (msg: string) => void } = {}
): Promise<A> => {
  const t0 = performance.now()
  const timer = setInterval(
    () => (opts.log ?? log)(line(formatDuration(performance.now() - t0))),
    opts.everyMs ?? 30_000
  )
  timer.unref() // the step itself keeps the process alive, not its progress line
  try {
    return await body()
  } finally {
    clearInterval(timer)
  }
}

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
  let lastError = ""
  const failure = (why: string): TestenvError =>
    new TestenvError(`${name} ${why}; last lines of ${join(logsDir, `${name}.log`)}:\n${logTail(logsDir, name)}`)
  const healthy = await pollUntil(async () => {
    try {
      if (await check()) return true
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e)
    }
    if (!isAlive(pid)) throw failure("exited")
    return false
  }, { timeoutMs, intervalMs: 50, maxIntervalMs: 500 })
  if (!healthy) throw failure(`not healthy after ${timeoutMs / 1000}s${lastError ? ` (${lastError})` : ""}`)
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
  const gone = () => !isAlive(pid)
  if (!(await pollUntil(gone, { timeoutMs, intervalMs: 50 }))) signal("SIGKILL")
  await pollUntil(gone, { timeoutMs: Infinity, intervalMs: 20 })
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
