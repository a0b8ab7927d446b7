// Builds the pinned upstream binaries from Go sources via the module proxy, once, into a
// cache outside the repo keyed by the pins; later runs reuse them.
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"

import { type LockOptions, withLock } from "./lock.ts"
import { formatDuration, log, requireTool, run, TestenvError, withProgress } from "./processes.ts"

export const PINS = {
  kubernetes: "v1.34.4",
  etcd: "v3.6.16",
  kwok: "v0.7.0",
  minio: "v0.0.0-20260212201848-7aac2a2c5b7c"
} as const

/** PyPI pin for the EC2 fake; its venv is cached next to the binaries, keyed by this version. */
export const MOTO_VERSION = "5.2.5"

/** k8s.io/kubernetes v1.X.Y publishes its staging modules as v0.X.Y. */
const stagingVersion = PINS.kubernetes.replace(/^v1\./, "v0.")

/** What buildMissing needs of a component: the real ones are Go packages, tests use fakes. */
export interface Buildable {
  readonly name: string
  readonly version: string
  readonly minutes: number // measured cold build on 2 cores (shared Go build cache), for the progress line
}

interface Component extends Buildable {
  readonly module: string
  readonly pkg: string
  readonly ldflags?: string
}

const k8sVersionFlags = (() => {
  const [, minor] = PINS.kubernetes.split(".")
  return ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]
    .flatMap((p) => [
      `-X ${p}.gitVersion=${PINS.kubernetes}`,
      `-X ${p}.gitMajor=1`,
      `-X ${p}.gitMinor=${minor}`,
      `-X ${p}.gitTreeState=clean`
    ])
    .join(" ")
})()

const k8s = (name: string, minutes: number): Component => ({
  name,
  module: "k8s.io/kubernetes",
  version: PINS.kubernetes,
  pkg: `k8s.io/kubernetes/cmd/${name}`,
  minutes,
  ldflags: k8sVersionFlags
})

export const COMPONENTS: ReadonlyArray<Component> = [
  {
    name: "etcd",
    module: "go.etcd.io/etcd/server/v3",
    version: PINS.etcd,
    pkg: "go.etcd.io/etcd/server/v3",
    minutes: 1
  },
  {
    name: "etcdctl",
    module: "go.etcd.io/etcd/etcdctl/v3",
    version: PINS.etcd,
    pkg: "go.etcd.io/etcd/etcdctl/v3",
    minutes: 1
  },
  k8s("kube-apiserver", 4),
  k8s("kube-controller-manager", 1),
  k8s("kube-scheduler", 1),
  k8s("kubectl", 1),
  { name: "kwok", module: "sigs.k8s.io/kwok", version: PINS.kwok, pkg: "sigs.k8s.io/kwok/cmd/kwok", minutes: 2 },
  { name: "minio", module: "github.com/minio/minio", version: PINS.minio, pkg: "github.com/minio/minio", minutes: 3 }
]

export const cacheRoot = (): string => join(process.env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "ark-testenv")

const goEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  CGO_ENABLED: "0",
  GOTOOLCHAIN: "local", // never download another toolchain
  GOFLAGS: "-mod=mod",
  GOWORK: "off"
})

/** Cache directory for this set of pins and this Go toolchain/platform. */
export const cacheDir = async (): Promise<string> => {
  requireTool("go", "to build etcd, kube-apiserver, kwok, MinIO from source", "install Go >= 1.26 (https://go.dev/dl)")
  const goVersion = (await run("go", ["env", "GOVERSION", "GOOS", "GOARCH"], { component: "go" })).trim()
  const hash = createHash("sha256").update(JSON.stringify({ PINS, goVersion })).digest("hex").slice(0, 12)
  return join(cacheRoot(), `k8s-${PINS.kubernetes}-${hash}`)
}

/** Wrapper module for k8s.io/kubernetes: its staging modules are `=> ./staging/...` there. */
const kubernetesGoMod = async (env: NodeJS.ProcessEnv): Promise<string> => {
  const info = JSON.parse(
    await run("go", ["mod", "download", "-json", `k8s.io/kubernetes@${PINS.kubernetes}`], {
      component: "kubernetes go.mod",
      env
    })
  ) as { GoMod?: string }
  if (!info.GoMod) throw new TestenvError(`kubernetes: go mod download gave no go.mod for ${PINS.kubernetes}`)
  const staging = [...readFileSync(info.GoMod, "utf8").matchAll(/^\s*(k8s\.io\/[\w.-]+)\s*=>\s*\.\/staging\//gm)]
    .map((m) => m[1])
    .filter((m): m is string => m !== undefined)
  if (staging.length < 10) throw new TestenvError(`kubernetes: found only ${staging.length} staging replaces`)
  return [
    "module ark.test/testenv-build",
    "",
    "go 1.24.0",
    "",
    "godebug default=go1.24", // what k8s.io/kubernetes itself builds with
    "",
    "replace (",
    ...staging.map((m) => `\t${m} => ${m} ${stagingVersion}`),
    ")",
    ""
  ].join("\n")
}

/** Builds one component into binDir; returns a note for the "built" line. */
const buildOne = async (c: Component, binDir: string, workRoot: string): Promise<string> => {
  const env = goEnv()
  const work = join(workRoot, c.module.replace(/[^\w.-]/g, "_"))
  const resolved = join(work, ".resolved") // go.mod pins complete (a killed `go get` leaves none)
  if (!existsSync(resolved)) {
    rmSync(work, { recursive: true, force: true })
    mkdirSync(work, { recursive: true })
    const gomod = c.module === "k8s.io/kubernetes"
      ? await kubernetesGoMod(env)
      : "module ark.test/testenv-build\n\ngo 1.24.0\n"
    writeFileSync(join(work, "go.mod"), gomod)
    // Resolves the module graph (replace directives of dependencies are ignored by Go).
    await run("go", ["get", `${c.module}@${c.version}`], { component: c.name, cwd: work, env })
    writeFileSync(resolved, "")
  }
  const started = performance.now()
  const tmp = join(binDir, `.${c.name}.tmp-${process.pid}`)
  const ldflags = ["-s", "-w", ...(c.ldflags ? [c.ldflags] : [])].join(" ")
  await run("go", ["build", "-trimpath", `-ldflags=${ldflags}`, "-o", tmp, c.pkg], {
    component: c.name,
    cwd: work,
    env
  })
  renameSync(tmp, join(binDir, c.name)) // atomic: a killed build never leaves a half binary
  return `go build ${formatDuration(performance.now() - started)}`
}

export interface BuildOptions {
  readonly log?: (msg: string) => void
  /** Runs under the lock once every component is built. */
  readonly done?: () => void
  /** Lock tuning (tests poll faster). */
  readonly lock?: Omit<LockOptions, "what" | "log">
  /** How often a long build says it is still running (30 s; tests say it faster). */
  readonly progressEveryMs?: number
}

/**
 * Builds the components missing from DIR/bin with `build`, one process per cache at a time: the
 * lock DIR.lock is held while building. A process that waited for it re-checks afterwards and builds
 * only what is still missing, so it reuses what the other one built. Returns DIR/bin.
 */
export const buildMissing = async <C extends Buildable>(
  dir: string,
  components: ReadonlyArray<C>,
  build: (c: C, binDir: string) => Promise<string | undefined>,
  opts: BuildOptions = {}
): Promise<string> => {
  const say = opts.log ?? log
  const binDir = join(dir, "bin")
  const missing = (): Array<C> => components.filter((c) => !existsSync(join(binDir, c.name)))
  if (missing().length === 0) return binDir
  mkdirSync(binDir, { recursive: true })
  return withLock(`${dir}.lock`, { ...opts.lock, what: `building binaries into ${binDir}`, log: say }, async () => {
    const todo = missing() // again: the process we may have waited for built some or all
    if (todo.length === 0) say(`reusing the binaries another process built in ${binDir}`)
    for (const [i, c] of todo.entries()) {
      const k = `${i + 1} of ${todo.length}`
      say(`building ${c.name} ${c.version} (${k}, first run only, ~${c.minutes} min on 2 cores)`)
      const t0 = performance.now()
      const note = await withProgress(
        (elapsed) => `building ${c.name} (${k}): ${elapsed} elapsed, ~${c.minutes} min expected`,
        () => build(c, binDir),
        { log: say, ...(opts.progressEveryMs === undefined ? {} : { everyMs: opts.progressEveryMs }) }
      )
      say(`built ${c.name} in ${formatDuration(performance.now() - t0)}${note ? ` (${note})` : ""}`)
    }
    opts.done?.()
    return binDir
  })
}

/** Builds whatever is missing; returns the bin directory. */
export const ensureBinaries = async (): Promise<string> => {
  const dir = await cacheDir()
  const workRoot = join(dir, "build")
  return buildMissing(dir, COMPONENTS, async (c, binDir) => {
    try {
      return await buildOne(c, binDir, workRoot)
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e)
      throw new TestenvError(
        `building ${c.name} ${c.version} failed. Check that Go >= 1.26 is installed and GOPROXY ` +
          `(${process.env["GOPROXY"] ?? "https://proxy.golang.org"}) is reachable.\n${msg}`
      )
    }
  }, { done: () => rmSync(workRoot, { recursive: true, force: true }) })
}
