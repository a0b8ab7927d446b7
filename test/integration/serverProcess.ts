// `ark server` as a real child process, and the server namespace it needs on a real cluster: Ark's
// CRDs, a credentials Secret and a BackupStorageLocation on MinIO (the shared one, or a private one).
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

import { Chunk, Config, Effect, Option, Redacted, Stream } from "effect"

import * as S3ObjectStore from "../../layers/objectstore/S3.ts"
import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { apiVersion, group, version } from "../../src/api/index.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { waitFor } from "../support/wait.ts"
import { gvr } from "./backupFixtures.ts"
import { applyCrds, ensureNamespace } from "./crdsApply.ts"

const mainTs = fileURLToPath(new URL("../../bin/ark.mjs", import.meta.url))

export const ark = (plural: string): GroupVersionResource => ({ group, version, resource: plural })
export const arkGvr = {
  backups: ark("backups"),
  restores: ark("restores"),
  schedules: ark("schedules"),
  locations: ark("backupstoragelocations"),
  snapshotLocations: ark("volumesnapshotlocations"),
  deleteBackupRequests: ark("deletebackuprequests")
}

export interface S3Target {
  readonly url: string
  readonly bucket: string
  readonly prefix: string
  readonly region: string
  readonly accessKeyId: string
  readonly secretAccessKey: Redacted.Redacted<string>
}

/** The shared MinIO of the test environment, under `prefix`. */
export const sharedMinio = (prefix: string) =>
  Effect.all({
    url: Config.string("ARK_TEST_S3_URL"),
    bucket: Config.string("ARK_TEST_S3_BUCKET"),
    region: Config.string("AWS_REGION"),
    accessKeyId: Config.string("AWS_ACCESS_KEY_ID"),
    secretAccessKey: Config.redacted("AWS_SECRET_ACCESS_KEY")
  }).pipe(
    Effect.map((config): S3Target => ({ ...config, prefix })),
    Effect.orDieWith((error) => new Error(`server tests need the test environment's MinIO: ${error}`))
  )

export const kubeconfigOf = (cluster: 1 | 2) =>
  Config.string(cluster === 1 ? "KUBECONFIG" : "KUBECONFIG_2").pipe(
    Effect.orDieWith((error) =>
      new Error(`server tests need the test environment's cluster ${cluster} (run with --clusters 2): ${error}`)
    )
  )

/**
 * Ark's CRDs, the server namespace (deleted afterwards), a credentials Secret and the `default`
 * BackupStorageLocation on `s3`.
 */
export const serverNamespace = (namespace: string, s3: S3Target) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* applyCrds
    yield* Effect.acquireRelease(ensureNamespace(namespace), () =>
      kube.delete(gvr.namespaces, namespace).pipe(Effect.ignore))
    yield* kube.create(gvr.secrets, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "cloud-credentials", namespace },
      stringData: {
        cloud: `[default]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = ${
          Redacted.value(s3.secretAccessKey)
        }\n`
      }
    })
    yield* kube.create(arkGvr.locations, {
      apiVersion,
      kind: "BackupStorageLocation",
      metadata: { name: "default", namespace },
      spec: {
        provider: "aws",
        objectStorage: { bucket: s3.bucket, prefix: s3.prefix },
        config: { region: s3.region, s3Url: s3.url, s3ForcePathStyle: "true" },
        credential: { name: "cloud-credentials", key: "cloud" }
      }
    })
  })

export interface ServerProcess {
  /** Everything it printed so far, stdout and stderr interleaved. */
  readonly output: () => string
  readonly exited: Promise<number | null>
  readonly kill: (signal: NodeJS.Signals) => void
  /** The process id, for /proc/<pid>/status. */
  readonly pid: number | undefined
}

/** Fast periods, so tests wait seconds rather than minutes for a pass. */
export const fastPeriods = ["--backup-sync-period", "2s", "--gc-sync-period", "2s", "--schedule-sync-period", "2s"]

/** A server-like Node program (argv after the Node binary); SIGTERM'd (and awaited) when the scope closes. */
export const nodeServer = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env) =>
  Effect.acquireRelease(
    Effect.sync((): ServerProcess => {
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env })
      const output: Array<string> = []
      child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")))
      child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")))
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
      return { output: () => output.join(""), exited, kill: (signal) => child.kill(signal), pid: child.pid }
    }),
    // A server that has not exited a minute after SIGTERM is killed: a hung shutdown never hangs the caller.
    (server) =>
      Effect.promise(() => {
        server.kill("SIGTERM")
        return server.exited
      }).pipe(
        Effect.timeout("60 seconds"),
        Effect.catchTag("TimeoutException", () =>
          Effect.promise(() => {
            server.kill("SIGKILL")
            return server.exited
          }))
      )
  )

/**
 * `ark server` on a cluster, stopped when the scope closes. `periods` are the controllers'
 * periods: fast for tests, `[]` for the shipped defaults (a benchmark).
 */
export const arkServer = (
  kubeconfig: string,
  namespace: string,
  flags: ReadonlyArray<string> = [],
  periods: ReadonlyArray<string> = fastPeriods
) =>
  nodeServer([
    mainTs,
    "server",
    "--kubeconfig",
    kubeconfig,
    "--namespace",
    namespace,
    "--log-format",
    "json",
    "--metrics-address",
    "127.0.0.1:0",
    ...periods,
    ...flags
  ])

export const statusOf = (object: KubeObject): Record<string, unknown> =>
  (object["status"] as Record<string, unknown> | undefined) ?? {}

/** Waits (up to two minutes) until the object exists and `done` holds of it. */
export const waitForObject = (
  resource: GroupVersionResource,
  name: string,
  namespace: string,
  what: string,
  done: (object: KubeObject) => boolean = () => true
) =>
  Effect.flatMap(KubeClient, (kube) =>
    waitFor(
      `${resource.resource}/${name} ${what}`,
      kube.get(resource, name, namespace).pipe(
        Effect.map((object) => Option.some(object).pipe(Option.filter(done))),
        Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.none()))
      ),
      "120 seconds"
    ))

/** Waits until sync has imported the backup with its stored status (Completed); prints the server's output if not. */
export const waitForImport = (name: string, namespace: string, server: ServerProcess) =>
  waitForObject(arkGvr.backups, name, namespace, "imported by sync", (b) => statusOf(b)["phase"] === "Completed").pipe(
    Effect.tapError(() => Effect.sync(() => console.error(server.output())))
  )

/** Waits (up to two minutes) until the object is gone. */
export const waitForGone = (resource: GroupVersionResource, name: string, namespace: string) =>
  Effect.flatMap(KubeClient, (kube) =>
    waitFor(
      `${resource.resource}/${name} gone`,
      kube.get(resource, name, namespace).pipe(
        Effect.as(Option.none<true>()),
        Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.some(true as const)))
      ),
      "120 seconds"
    ))

/** Phases a backup or restore ends in. */
export const finished = (object: KubeObject) =>
  ["Completed", "PartiallyFailed", "Failed", "FailedValidation"].includes(String(statusOf(object)["phase"]))

/** Every object of a kind in a namespace, optionally by label selector. */
export const listAll = (resource: GroupVersionResource, namespace: string, labelSelector?: string) =>
  Effect.flatMap(
    KubeClient,
    (kube) =>
      Stream.runCollect(
        kube.listPages(resource, { namespace, limit: 500, ...(labelSelector === undefined ? {} : { labelSelector }) })
      ).pipe(
        Effect.map((pages) => Chunk.toReadonlyArray(pages).flatMap((page) => page.items))
      )
  )

/** The server's storage at `s3`'s bucket and prefix, as the test's own client. */
export const storeAt = (s3: S3Target) =>
  S3ObjectStore.make({
    bucket: s3.bucket,
    prefix: s3.prefix,
    region: s3.region,
    s3Url: s3.url,
    s3ForcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }
  })

/** The keys under `dir` (e.g. `backups/<name>/`) in the server's storage. */
export const keysUnder = (s3: S3Target, dir: string) =>
  storeAt(s3).pipe(
    Effect.flatMap((store) => store.list(dir)),
    Effect.map((listing) => listing.objects.map((object) => object.key))
  )

/**
 * A backup as another Ark committed it: its tarball and its `ark-backup.json` (Completed), so a
 * server finds it in the location (sync imports it; a restore reads it).
 */
export const putStoredBackup = <E>(
  s3: S3Target,
  namespace: string,
  name: string,
  archive: Stream.Stream<Uint8Array, E>
) =>
  Effect.gen(function*() {
    const store = yield* storeAt(s3)
    const keys = backupKeys(name)
    yield* store.put(keys.tarball, archive)
    const backup = {
      apiVersion,
      kind: "Backup",
      metadata: { name, namespace },
      spec: { includedNamespaces: ["*"], storageLocation: "default", ttl: "720h0m0s" },
      status: { phase: "Completed", formatVersion: "1.0.0" }
    }
    yield* store.put(keys.metadata, Stream.make(new TextEncoder().encode(JSON.stringify(backup))))
  })

/** One line of `--log-format json` output (Effect's Logger.json). */
export interface LogEntry {
  readonly message: unknown
  readonly logLevel?: string
  readonly annotations?: Record<string, unknown>
}

/** The JSON log lines printed so far; anything else (a half-written last line) is skipped. */
export const logEntries = (output: string): ReadonlyArray<LogEntry> =>
  output.split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return []
    try {
      const entry: unknown = JSON.parse(line)
      return typeof entry === "object" && entry !== null && "message" in entry ? [entry as LogEntry] : []
    } catch {
      return []
    }
  })

/** The entries whose message is `message`, or starts with it when `prefix` is set. */
export const logged = (server: ServerProcess, message: string, prefix = false) =>
  logEntries(server.output()).filter((entry) =>
    typeof entry.message === "string" && (prefix ? entry.message.startsWith(message) : entry.message === message)
  )

/** Waits until the server logged its metrics address (`--metrics-address 127.0.0.1:0`); `http://host:port`. */
export const metricsUrl = (server: ServerProcess) =>
  waitFor(
    "the server's \"serving metrics\" line",
    Effect.sync(() =>
      Option.fromNullable(logged(server, "serving metrics")[0]?.annotations?.["address"]).pipe(
        Option.filter((address) => typeof address === "string"),
        Option.map((address) => `http://${String(address)}`)
      )
    ),
    "60 seconds"
  )
