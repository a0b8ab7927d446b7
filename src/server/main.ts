// `ark server`: the controllers over live services, running until SIGINT/SIGTERM interrupts them
// (NodeRuntime.runMain turns the signal into an interruption; every resource fiber is interrupted
// and records why). The controllers run only while this process holds the leader Lease; the
// health, readiness and metrics endpoints run on every replica.
import { hostname } from "node:os"

import type { Duration } from "effect"
import { Effect, Layer, Logger, LogLevel, Option, Schedule, Stream } from "effect"

import * as BlockStoreProviderLive from "../../layers/blockstore/Provider.ts"
import * as HookExec from "../../layers/hooks/Exec.ts"
import * as KubeLive from "../../layers/kube/Live.ts"
import type { RateLimit } from "../../layers/kube/live/rateLimit.ts"
import * as ObjectStoreProviderLive from "../../layers/objectstore/Provider.ts"
import type { KubeClient } from "../../services/KubeClient.ts"
import { KubeClient as KubeClientTag } from "../../services/KubeClient.ts"
import type { ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import { arkVersion } from "../version.ts"
import * as BackupController from "./controllers/backup.ts"
import * as BackupDeletionController from "./controllers/backupDeletion.ts"
import * as DownloadRequestController from "./controllers/downloadRequest.ts"
import * as GcController from "./controllers/gc.ts"
import * as LocationController from "./controllers/locations.ts"
import * as RestoreController from "./controllers/restore.ts"
import * as ScheduleController from "./controllers/schedule.ts"
import * as SyncController from "./controllers/sync.ts"
import { httpLayer } from "./http.ts"
import { whileLeader } from "./leader.ts"
import * as Readiness from "./readiness.ts"
import { leaseName, serverVersionAnnotation } from "./status.ts"

export { leaseName } from "./status.ts"

export type LogFormat = "json" | "text"
export type LogLevelName = "debug" | "info" | "warning" | "error"

export interface ControllerOptions {
  /** The server namespace: where Ark's resources and credential Secrets live. */
  readonly namespace: string
  /** No backup, schedule or GC controllers: this cluster only restores (migration target). */
  readonly restoreOnly: boolean
  readonly backupConcurrency: number
  /** Restores that run at once (`--restore-concurrency`); default 2. */
  readonly restoreConcurrency?: number
  /** How often every BackupStorageLocation is checked (`--backup-sync-period`). */
  readonly locationValidationPeriod: Duration.DurationInput
  /** How often backups are synced from object storage (`--backup-sync-period`); default 1m. */
  readonly backupSyncPeriod?: Duration.DurationInput
  /** How often expired backups are looked for (`--gc-sync-period`); default 1h. */
  readonly gcPeriod?: Duration.DurationInput
  /** How often each Schedule is re-read (`--schedule-sync-period`); default 1m. */
  readonly scheduleSyncPeriod?: Duration.DurationInput
  readonly progressInterval?: Duration.DurationInput
  /** Read each committed backup back from storage and record the result in its status. */
  readonly verifyAfterBackup?: boolean
}

export interface ServerOptions extends ControllerOptions {
  readonly kubeconfig: Option.Option<string>
  /** Where /healthz, /readyz and /metrics are served (`--metrics-address`, Go style: ":8085"). */
  readonly metricsAddress: string
  readonly logFormat: LogFormat
  readonly logLevel: LogLevelName
  /** Client-side API request limit (`--client-qps`, `--client-burst`); none when unset. */
  readonly clientRateLimit?: RateLimit
}

/** The controllers `ark server` runs, over whatever KubeClient and ObjectStoreProvider are given. */
export const controllers = (
  options: ControllerOptions
): Layer.Layer<never, never, KubeClient | ObjectStoreProvider> => {
  const locations = LocationController.layer({
    namespace: options.namespace,
    validationPeriod: options.locationValidationPeriod
  })
  const restores = RestoreController.layer({
    namespace: options.namespace,
    concurrency: options.restoreConcurrency ?? 2,
    ...(options.progressInterval === undefined ? {} : { progressInterval: options.progressInterval })
  })
  // A restore-only cluster (a migration target) still imports what appears in storage. It deletes
  // no backups: it usually shares the source cluster's bucket, and its RBAC has no rights for it.
  const sync = SyncController.layer({ namespace: options.namespace, period: options.backupSyncPeriod ?? "1 minute" })
  // `ark backup|restore logs|download` read storage themselves; the requests serve other clients.
  const downloads = DownloadRequestController.layer({ namespace: options.namespace })
  if (options.restoreOnly) return Layer.mergeAll(locations, restores, sync, downloads)
  const deletions = BackupDeletionController.layer({ namespace: options.namespace })
  const backups = BackupController.layer({
    namespace: options.namespace,
    concurrency: options.backupConcurrency,
    verifyAfterBackup: options.verifyAfterBackup === true,
    ...(options.progressInterval === undefined ? {} : { progressInterval: options.progressInterval })
  })
  const schedules = ScheduleController.layer({
    namespace: options.namespace,
    syncPeriod: options.scheduleSyncPeriod ?? "1 minute"
  })
  const gc = GcController.layer({ namespace: options.namespace, period: options.gcPeriod ?? "1 hour" })
  return Layer.mergeAll(locations, restores, sync, downloads, deletions, backups, schedules, gc)
}

/**
 * The live services from the flags: the API server of --kubeconfig, S3/filesystem stores, EBS/local
 * block stores, and hooks exec'd through the API server. The controllers pick up the block stores
 * and the hook runner from their context.
 */
export const liveServices = (kubeconfig: Option.Option<string>, rateLimit?: RateLimit) => {
  const config = Option.match(kubeconfig, { onNone: () => ({}), onSome: (kubeconfigPath) => ({ kubeconfigPath }) })
  const kube = KubeLive.layer(rateLimit === undefined ? config : { ...config, rateLimit })
  return Layer.provideMerge(
    Layer.mergeAll(ObjectStoreProviderLive.layer, BlockStoreProviderLive.layer, HookExec.layer(config)),
    kube
  )
}

const levels: Record<LogLevelName, LogLevel.LogLevel> = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error
}

/** Structured logs: one JSON object per line, or logfmt for people reading a terminal. */
export const loggerLayer = (format: LogFormat, level: LogLevelName): Layer.Layer<never> =>
  Layer.merge(format === "json" ? Logger.json : Logger.logFmt, Logger.minimumLogLevel(levels[level]))

/**
 * Ready once the API server answers for Ark's own kinds in the namespace: the CRDs are served and
 * the credentials work. A standby replica is ready too; it serves probes and waits for the lease.
 */
const becomeReady = (namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClientTag
    yield* kube.listPages(BackupController.backupsGvr, { namespace, limit: 1 }).pipe(Stream.take(1), Stream.runDrain)
  }).pipe(
    Effect.tapError((error) => Effect.logWarning(`not ready: ${error.message}`)),
    Effect.retry(Schedule.exponential("500 millis").pipe(Schedule.union(Schedule.spaced("10 seconds")))),
    Effect.zipRight(Readiness.markReady)
  )

/** Runs the server until interrupted. Fails when the live services or the endpoint cannot be built, or leadership is lost. */
export const runServer = (options: ServerOptions) =>
  Effect.gen(function*() {
    yield* Effect.logInfo("ark server starting").pipe(
      Effect.annotateLogs({
        namespace: options.namespace,
        restoreOnly: options.restoreOnly,
        backupConcurrency: options.backupConcurrency,
        restoreConcurrency: options.restoreConcurrency ?? 2
      })
    )
    // Built in this scope, so a taken port fails the server at once.
    yield* Layer.build(httpLayer(options.metricsAddress))
    yield* becomeReady(options.namespace).pipe(Effect.forkScoped)
    const identity = `${hostname()}_${process.pid}`
    return yield* whileLeader(
      { namespace: options.namespace, leaseName, identity, annotations: { [serverVersionAnnotation]: arkVersion } },
      Layer.launch(controllers(options))
    )
  }).pipe(
    Effect.scoped,
    Effect.provide(Layer.merge(liveServices(options.kubeconfig, options.clientRateLimit), Readiness.layer)),
    Effect.onInterrupt(() => Effect.logInfo("ark server stopped")),
    Effect.provide(loggerLayer(options.logFormat, options.logLevel))
  )
