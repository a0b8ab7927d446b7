import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { notYetDelivered } from "../errors.ts"
import { connection } from "../options.ts"

const period = (name: string, fallback: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.withDefault(fallback))

export const serverCommand = Command.make(
  "server",
  {
    ...connection,
    restoreOnly: Options.boolean("restore-only").pipe(
      Options.withDescription("run only restores and storage sync: no backups, schedules or garbage collection")
    ),
    backupSyncPeriod: period("backup-sync-period", "1m", "how often to sync backups from object storage"),
    gcSyncPeriod: period("gc-sync-period", "1h", "how often to look for expired backups"),
    scheduleSyncPeriod: period("schedule-sync-period", "1m", "how often to re-check schedules"),
    metricsAddress: period("metrics-address", ":8085", "where to serve /metrics, /healthz and /readyz"),
    logLevel: Options.choice("log-level", ["debug", "info", "warning", "error"]).pipe(Options.withDefault("info")),
    logFormat: Options.choice("log-format", ["json", "text"]).pipe(Options.withDefault("json")),
    backupConcurrency: Options.integer("backup-concurrency").pipe(Options.withDefault(2)),
    restoreConcurrency: Options.integer("restore-concurrency").pipe(Options.withDefault(2)),
    clientQps: Options.float("client-qps").pipe(
      Options.withDescription("steady API server requests per second"),
      Options.withDefault(50)
    ),
    clientBurst: Options.integer("client-burst").pipe(Options.withDefault(100))
  },
  () => Effect.fail(notYetDelivered("ark server", "server"))
).pipe(Command.withDescription("Run Ark's controllers against a cluster (in-cluster, or with a kubeconfig)"))
