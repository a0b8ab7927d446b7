// `ark server`: the controllers over live services, running until SIGINT/SIGTERM interrupts them
// (NodeRuntime.runMain turns the signal into an interruption; every resource fiber is interrupted
// and records why).
import { Duration, Effect, Layer, Logger, LogLevel, Option } from "effect"
import * as BlockStoreProviderLive from "../../layers/blockstore/Provider.ts"
import * as HookExec from "../../layers/hooks/Exec.ts"
import * as KubeLive from "../../layers/kube/Live.ts"
import * as ObjectStoreProviderLive from "../../layers/objectstore/Provider.ts"
import type { KubeClient } from "../../services/KubeClient.ts"
import type { ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import * as BackupController from "./controllers/backup.ts"
import * as LocationController from "./controllers/locations.ts"
import * as RestoreController from "./controllers/restore.ts"

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
  readonly progressInterval?: Duration.DurationInput
}

export interface ServerOptions extends ControllerOptions {
  readonly kubeconfig: Option.Option<string>
  readonly logFormat: LogFormat
  readonly logLevel: LogLevelName
}

/** The controllers `ark server` runs, over whatever KubeClient and ObjectStoreProvider are given. */
export const controllers = (options: ControllerOptions): Layer.Layer<never, never, KubeClient | ObjectStoreProvider> => {
  const locations = LocationController.layer({
    namespace: options.namespace,
    validationPeriod: options.locationValidationPeriod
  })
  const restores = RestoreController.layer({
    namespace: options.namespace,
    concurrency: options.restoreConcurrency ?? 2,
    ...(options.progressInterval === undefined ? {} : { progressInterval: options.progressInterval })
  })
  if (options.restoreOnly) return Layer.merge(locations, restores)
  const backups = BackupController.layer({
    namespace: options.namespace,
    concurrency: options.backupConcurrency,
    ...(options.progressInterval === undefined ? {} : { progressInterval: options.progressInterval })
  })
  // Later: schedule, gc, backup-deletion, download-request and storage-sync controllers.
  return Layer.mergeAll(locations, restores, backups)
}

/**
 * The live services from the flags: the API server of --kubeconfig, S3/filesystem stores, EBS/local
 * block stores, and hooks exec'd through the API server. The controllers pick up the block stores
 * and the hook runner from their context.
 */
export const liveServices = (kubeconfig: Option.Option<string>) => {
  const config = Option.match(kubeconfig, { onNone: () => ({}), onSome: (kubeconfigPath) => ({ kubeconfigPath }) })
  const kube = KubeLive.layer(config)
  return Layer.provideMerge(Layer.mergeAll(ObjectStoreProviderLive.layer, BlockStoreProviderLive.layer, HookExec.layer(config)), kube)
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

/** Runs the server until interrupted. Fails only when the live services cannot be built. */
export const runServer = (options: ServerOptions): Effect.Effect<never, KubeLive.KubeConfigError> =>
  Effect.gen(function*() {
    yield* Effect.logInfo("ark server starting").pipe(
      Effect.annotateLogs({
        namespace: options.namespace,
        restoreOnly: options.restoreOnly,
        backupConcurrency: options.backupConcurrency,
        restoreConcurrency: options.restoreConcurrency ?? 2
      })
    )
    // /metrics, /healthz and /readyz (--metrics-address) belong here, beside the controllers: issue 8.
    return yield* Layer.launch(controllers(options).pipe(Layer.provide(liveServices(options.kubeconfig))))
  }).pipe(
    Effect.onInterrupt(() => Effect.logInfo("ark server stopped")),
    Effect.provide(loggerLayer(options.logFormat, options.logLevel))
  )
