// `up` and `down` for the whole environment: N clusters sharing one MinIO and one moto.
// DIR/env (shell-sourceable) carries the connection settings; DIR/state.json every pid started.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"

import { ensureBinaries } from "./build.ts"
import { type ClusterInfo, startCluster } from "./cluster.ts"
import { isAlive, log, type StartedProcess, stopPid, TestenvError } from "./processes.ts"
import { ensureMoto, type S3Info, startMinio, startMoto } from "./storage.ts"

export interface Env {
  readonly dir: string
  /** The variables exported by DIR/env. */
  readonly vars: Readonly<Record<string, string>>
}

interface State {
  readonly dir: string
  readonly processes: Array<StartedProcess>
}

const statePath = (dir: string): string => join(dir, "state.json")
export const envPath = (dir: string): string => join(dir, "env")

const suffix = (i: number): string => (i === 1 ? "" : `_${i}`)
const shellQuote = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`

const readState = (dir: string): State | undefined =>
  existsSync(statePath(dir)) ? (JSON.parse(readFileSync(statePath(dir), "utf8")) as State) : undefined

export const up = async (opts: { readonly dir: string; readonly clusters?: number }): Promise<Env> => {
  const dir = resolve(opts.dir)
  const clusters = opts.clusters ?? 1
  if (!Number.isInteger(clusters) || clusters < 1) {
    throw new TestenvError(`--clusters must be a positive integer, got ${clusters}`)
  }
  const previous = readState(dir)
  if (previous?.processes.some((p) => isAlive(p.pid))) {
    throw new TestenvError(
      `${dir} already has a running environment; run \`npm run testenv -- down --dir ${dir}\` first`
    )
  }
  // DIR is wiped below, so only a directory testenv made (or an empty/missing one) is accepted.
  if (previous === undefined && existsSync(dir) && readdirSync(dir).length > 0) {
    throw new TestenvError(`${dir} exists and was not created by testenv; choose a new or empty directory`)
  }
  const t0 = performance.now()
  const [binDir, venv] = await Promise.all([ensureBinaries(), ensureMoto()])
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(dir, "logs"), { recursive: true })

  // Recorded before any health wait, so `down` (or the cleanup below) can stop a partial start.
  const state: State = { dir, processes: [] }
  const record = (p: StartedProcess): void => {
    state.processes.push(p)
    writeFileSync(statePath(dir), JSON.stringify(state, null, 2))
  }
  writeFileSync(statePath(dir), JSON.stringify(state, null, 2))
  try {
    log(`starting ${clusters} cluster(s), MinIO and moto in ${dir}`)
    // allSettled: after one failure the others must finish starting before everything is stopped.
    const settled = await Promise.allSettled([
      startMinio(dir, binDir, record),
      startMoto(dir, venv, record),
      ...Array.from({ length: clusters }, (_, i) => startCluster(dir, i + 1, binDir, record))
    ])
    const failed = settled.find((r) => r.status === "rejected")
    if (failed) throw failed.reason
    const [s3, ec2Url, ...infos] = settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
      S3Info,
      string,
      ...Array<ClusterInfo>
    ]
    const vars: Record<string, string> = {}
    infos.forEach((c, i) => {
      vars[`KUBECONFIG${suffix(i + 1)}`] = c.kubeconfig
      vars[`ARK_TEST_ETCD_URL${suffix(i + 1)}`] = c.etcdUrl
    })
    Object.assign(vars, {
      ARK_TEST_S3_URL: s3.url,
      ARK_TEST_S3_BUCKET: s3.bucket,
      ARK_TEST_S3_LOCKED_BUCKET: s3.lockedBucket,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: "us-east-1",
      ARK_TEST_EC2_URL: ec2Url,
      ARK_TEST_BIN: binDir
    })
    const lines = Object.entries(vars).map(([k, v]) => `export ${k}=${shellQuote(v)}`)
    writeFileSync(envPath(dir), `# ark test environment (test-only credentials)\n${lines.join("\n")}\n`, {
      mode: 0o600
    })
    log(`up in ${((performance.now() - t0) / 1000).toFixed(1)}s; source ${envPath(dir)}`)
    return { dir, vars }
  } catch (e) {
    log(`start failed; stopping the ${state.processes.length} processes started (logs kept in ${join(dir, "logs")})`)
    await Promise.all(state.processes.map((p) => stopPid(p.pid)))
    throw e
  }
}

/** Stops exactly the processes recorded in DIR/state.json, then removes DIR. */
export const down = async (opts: { readonly dir: string }): Promise<void> => {
  const dir = resolve(opts.dir)
  const state = readState(dir)
  if (state === undefined) {
    if (!existsSync(dir)) return
    throw new TestenvError(`${dir} has no state.json; refusing to remove a directory testenv did not create`)
  }
  const t0 = performance.now()
  await Promise.all(state.processes.map((p) => stopPid(p.pid)))
  log(`stopped ${state.processes.length} processes in ${((performance.now() - t0) / 1000).toFixed(1)}s`)
  rmSync(dir, { recursive: true, force: true })
}

/** Parses DIR/env back into variables (for reusing an already running environment). */
export const readEnv = (dir: string): Env => {
  const vars: Record<string, string> = {}
  for (const line of readFileSync(envPath(dir), "utf8").split("\n")) {
    const m = /^export ([A-Z0-9_]+)='(.*)'$/.exec(line)
    if (m?.[1] !== undefined && m[2] !== undefined) vars[m[1]] = m[2].replace(/'\\''/g, "'")
  }
  return { dir: resolve(dir), vars }
}
