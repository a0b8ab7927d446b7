// A cross-process lock file, so two cold builds into one cache (two checkouts running `npm test`,
// or `npm test` next to `npm run demo`) do not both spend ten minutes building: one builds, the
// other waits, then re-checks what is still missing. Node built-ins only.
//
// The lock is PATH, created atomically and complete: the owner record is written to a private file
// first and hard-linked to PATH (link fails with EEXIST when PATH exists). A lock whose owner is gone
// (pid not running or reused, or on another host: not refreshed for `staleMs`) is taken over, so a
// killed build never blocks the next one. The Go binaries are still written to a temp file and
// renamed, so for them a build that does run twice (a takeover race) only costs time.
import { randomUUID } from "node:crypto"
import {
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync
} from "node:fs"
import { hostname } from "node:os"
import { dirname } from "node:path"

import { formatDuration, log as defaultLog, pollUntil } from "./processes.ts"

/** What PATH holds: who owns the lock and since when. */
export interface LockOwner {
  readonly pid: number
  readonly host: string
  /** Tells this holder apart from a later one with the same pid. */
  readonly token: string
  /** Wall-clock ms when the lock was taken (compared across processes, so not performance.now()). */
  readonly since: number
  /** Linux start time of pid (/proc/PID/stat field 22): a different value means the pid was reused. */
  readonly procStart?: string
  readonly cmd?: string
}

export interface LockOptions {
  /** What the owner is doing, for the waiter's line: "building the Go binaries into DIR". */
  readonly what: string
  readonly log?: (msg: string) => void
  /** Longest sleep between attempts while waiting. */
  readonly pollMs?: number
  /** How often a waiter says that it still waits. */
  readonly reportEveryMs?: number
  /** How often the owner refreshes PATH's mtime (what a waiter on another host can observe). */
  readonly heartbeatMs?: number
  /** A lock from another host whose mtime has not changed for this long is stale. */
  readonly staleMs?: number
}

const errCode = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code

/** State (field 3) and start time (field 22) from /proc/PID/stat; undefined off Linux or when gone. */
const procStat = (pid: number): { readonly state: string; readonly start: string } | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ") // the command name may hold spaces
    const [state, start] = [fields[0], fields[19]]
    return state !== undefined && start !== undefined ? { state, start } : undefined
  } catch {
    return undefined
  }
}

/** Unlike processes.ts isAlive, EPERM (a process of another user) counts as running. */
const pidRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch (e) {
    return errCode(e) === "EPERM"
  }
  return procStat(pid)?.state !== "Z" // killed, only its parent has not reaped it yet
}

const ownerRecord = (token: string): LockOwner => {
  const start = procStat(process.pid)?.start
  return {
    pid: process.pid,
    host: hostname(),
    token,
    since: Date.now(),
    ...(start !== undefined ? { procStart: start } : {}),
    cmd: process.argv.slice(1).join(" ").slice(-100)
  }
}

interface Held {
  readonly raw: string
  readonly owner: LockOwner | undefined // undefined: not a record this code wrote
  readonly mtimeMs: number
}

/** The current lock, or undefined when there is none. One fd, so content and mtime are of one file. */
const readHeld = (path: string): Held | undefined => {
  let fd: number
  try {
    fd = openSync(path, "r")
  } catch (e) {
    if (errCode(e) === "ENOENT") return undefined
    throw e
  }
  try {
    const raw = readFileSync(fd, "utf8")
    let owner: LockOwner | undefined
    try {
      const o = JSON.parse(raw) as Partial<LockOwner>
      if (typeof o.pid === "number" && typeof o.host === "string" && typeof o.token === "string") owner = o as LockOwner
    } catch {
      owner = undefined
    }
    return { raw, owner, mtimeMs: fstatSync(fd).mtimeMs }
  } finally {
    closeSync(fd)
  }
}

/** Why the lock's owner is gone, or undefined while it may still be working. */
const staleReason = (held: Held, unchangedMs: number, staleMs: number): string | undefined => {
  const o = held.owner
  // Another host's pids mean nothing here: only the owner's heartbeat tells that it is alive.
  if (o === undefined || o.host !== hostname()) {
    return unchangedMs >= staleMs ? `not refreshed for ${formatDuration(unchangedMs)}` : undefined
  }
  if (!pidRunning(o.pid)) return `pid ${o.pid} is no longer running`
  const now = o.procStart !== undefined ? procStat(o.pid)?.start : undefined
  if (now !== undefined && now !== o.procStart) return `pid ${o.pid} is now another process`
  return undefined
}

const ownerText = (held: Held): string => {
  const o = held.owner
  if (o === undefined) return "an unknown owner"
  return `pid ${o.pid}${o.host === hostname() ? "" : ` on ${o.host}`}${o.cmd ? ` (${o.cmd})` : ""}`
}

const heldFor = (held: Held): string =>
  typeof held.owner?.since === "number" ? `, lock held for ${formatDuration(Date.now() - held.owner.since)}` : ""

/**
 * Moves the stale lock aside atomically: of several waiters that saw it stale, one rename wins.
 * If what was moved is not the stale lock (a waiter replaced it between our read and the rename),
 * it is dropped, not put back: its owner may release meanwhile, and a lock put back after that
 * would block everyone. That race needs three processes within microseconds; its cost is a double build.
 */
const takeOver = (path: string, stale: Held, log: (msg: string) => void): void => {
  const aside = `${path}.stale-${process.pid}-${randomUUID()}`
  try {
    renameSync(path, aside)
  } catch (e) {
    if (errCode(e) === "ENOENT") return // another waiter took it over first
    throw e
  }
  try {
    if (readFileSync(aside, "utf8") !== stale.raw) log(`lock ${path} changed while being taken over; dropped it`)
  } finally {
    rmSync(aside, { force: true })
  }
}

/** Creates PATH holding our record, atomically; false when it exists. */
const tryCreate = (path: string, token: string): boolean => {
  const record = JSON.stringify(ownerRecord(token))
  const mine = `${path}.${process.pid}-${token}.tmp`
  writeFileSync(mine, record)
  try {
    linkSync(mine, path) // appears complete: a waiter never reads a half-written owner
    return true
  } catch (e) {
    if (errCode(e) === "EEXIST") return false
    if (errCode(e) !== "EPERM" && errCode(e) !== "ENOTSUP") throw e
  } finally {
    rmSync(mine, { force: true })
  }
  // No hard links on this filesystem: exclusive create. A waiter that reads it still empty sees an
  // unknown owner, which only turns stale after `staleMs` without a change.
  try {
    writeFileSync(path, record, { flag: "wx" })
    return true
  } catch (e) {
    if (errCode(e) === "EEXIST") return false
    throw e
  }
}

/**
 * Runs `body` holding the lock PATH; waits (saying so every `reportEveryMs`) while another live
 * process holds it. `body` should re-check its result first: the process waited for may have made it.
 */
export const withLock = async <A>(path: string, opts: LockOptions, body: () => Promise<A>): Promise<A> => {
  const log = opts.log ?? defaultLog
  const pollMs = opts.pollMs ?? 1_000
  const reportEveryMs = opts.reportEveryMs ?? 30_000
  const staleMs = opts.staleMs ?? 120_000
  const token = randomUUID()
  mkdirSync(dirname(path), { recursive: true })

  const t0 = performance.now()
  let waited = false
  let lastReport = -Infinity
  let seen: { readonly raw: string; readonly mtimeMs: number; readonly at: number } | undefined
  await pollUntil(() => {
    for (let attempt = 0; attempt < 3; attempt++) { // retried at once after a takeover or a release
      if (tryCreate(path, token)) return true
      const held = readHeld(path)
      if (held === undefined) continue
      const now = performance.now()
      if (seen === undefined || seen.raw !== held.raw || seen.mtimeMs !== held.mtimeMs) {
        seen = { raw: held.raw, mtimeMs: held.mtimeMs, at: now }
      }
      const stale = staleReason(held, now - seen.at, staleMs)
      if (stale !== undefined) {
        log(`taking over the lock ${path} of ${ownerText(held)}: ${stale}`)
        takeOver(path, held, log)
        continue
      }
      if (now - lastReport >= reportEveryMs) {
        lastReport = now
        const waitedFor = formatDuration(now - t0)
        log(`waiting for ${ownerText(held)} to finish ${opts.what}: waited ${waitedFor} so far${heldFor(held)}`)
      }
      waited = true
      return false
    }
    return false
  }, { timeoutMs: Infinity, intervalMs: Math.min(50, pollMs), maxIntervalMs: pollMs })
  if (waited) log(`got the lock ${path} after waiting ${formatDuration(performance.now() - t0)}`)

  const beat = setInterval(() => {
    try {
      if (readHeld(path)?.owner?.token === token) utimesSync(path, new Date(), new Date())
    } catch {
      /* a missed beat only matters to a waiter on another host, after `staleMs` */
    }
  }, opts.heartbeatMs ?? 10_000)
  beat.unref()
  try {
    return await body()
  } finally {
    clearInterval(beat)
    const held = readHeld(path)
    if (held?.owner?.token === token) rmSync(path, { force: true })
    else log(`lock ${path} is no longer ours at release (${held ? ownerText(held) : "gone"}); left it`)
  }
}
