import { Command, Options } from "@effect/cli"
import { Duration, Effect, Either, Option } from "effect"

import { parseGoDuration } from "../../api/duration.ts"
import { parseMetricsAddress } from "../../server/http.ts"
import { runServer } from "../../server/main.ts"
import { CliError } from "../errors.ts"
import { connection } from "../options.ts"

const period = (name: string, fallback: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.withDefault(fallback))

/** A Go duration flag (`1m`, `30s`, `1h30m`), positive. */
const positiveDuration = (flag: string, text: string): Effect.Effect<Duration.Duration, CliError> =>
  Option.match(Option.filter(parseGoDuration(text), Duration.greaterThan(Duration.zero)), {
    onNone: () =>
      Effect.fail(
        new CliError({
          message: `--${flag}: invalid duration ${JSON.stringify(text)}`,
          hint: "use a Go duration such as 30s, 1m or 1h30m"
        })
      ),
    onSome: (duration) => Effect.succeed(duration)
  })

const atLeastOne = (flag: string, value: number): Effect.Effect<number, CliError> =>
  Number.isInteger(value) && value >= 1
    ? Effect.succeed(value)
    : Effect.fail(new CliError({ message: `--${flag} must be a whole number of at least 1, got ${value}` }))

export const serverCommand = Command.make(
  "server",
  {
    ...connection,
    restoreOnly: Options.boolean("restore-only").pipe(
      Options.withDescription("run only restores and storage sync: no backups, schedules or garbage collection")
    ),
    backupSyncPeriod: period(
      "backup-sync-period",
      "1m",
      "how often to sync backups from object storage and check storage locations"
    ),
    gcSyncPeriod: period("gc-sync-period", "1h", "how often to look for expired backups"),
    scheduleSyncPeriod: period("schedule-sync-period", "1m", "how often to re-check schedules"),
    metricsAddress: period("metrics-address", ":8085", "where to serve /metrics, /healthz and /readyz"),
    logLevel: Options.choice("log-level", ["debug", "info", "warning", "error"]).pipe(Options.withDefault("info")),
    logFormat: Options.choice("log-format", ["json", "text"]).pipe(Options.withDefault("json")),
    backupConcurrency: Options.integer("backup-concurrency").pipe(
      Options.withDescription("backups that run at once; more wait in phase New"),
      Options.withDefault(2)
    ),
    restoreConcurrency: Options.integer("restore-concurrency").pipe(
      Options.withDescription("restores that run at once; more wait in phase New"),
      Options.withDefault(2)
    ),
    clientQps: Options.float("client-qps").pipe(
      Options.withDescription("steady API server requests per second"),
      Options.withDefault(50)
    ),
    clientBurst: Options.integer("client-burst").pipe(
      Options.withDescription("API server requests allowed at once above --client-qps"),
      Options.withDefault(100)
    )
  },
  (flags) =>
    Effect.gen(function*() {
      const backupSyncPeriod = yield* positiveDuration("backup-sync-period", flags.backupSyncPeriod)
      const gcPeriod = yield* positiveDuration("gc-sync-period", flags.gcSyncPeriod)
      const scheduleSyncPeriod = yield* positiveDuration("schedule-sync-period", flags.scheduleSyncPeriod)
      yield* Either.match(parseMetricsAddress(flags.metricsAddress), {
        onLeft: (error) =>
          Effect.fail(
            new CliError({ message: error.message, hint: "use HOST:PORT or :PORT, e.g. :8085 or 127.0.0.1:8085" })
          ),
        onRight: () => Effect.void
      })
      const backupConcurrency = yield* atLeastOne("backup-concurrency", flags.backupConcurrency)
      const restoreConcurrency = yield* atLeastOne("restore-concurrency", flags.restoreConcurrency)
      const clientBurst = yield* atLeastOne("client-burst", flags.clientBurst)
      if (!(flags.clientQps > 0) || !Number.isFinite(flags.clientQps)) {
        return yield* new CliError({ message: `--client-qps must be a number above 0, got ${flags.clientQps}` })
      }
      return yield* runServer({
        kubeconfig: flags.kubeconfig,
        namespace: flags.namespace,
        restoreOnly: flags.restoreOnly,
        backupConcurrency,
        restoreConcurrency,
        locationValidationPeriod: backupSyncPeriod,
        backupSyncPeriod,
        gcPeriod,
        scheduleSyncPeriod,
        metricsAddress: flags.metricsAddress,
        logFormat: flags.logFormat,
        logLevel: flags.logLevel,
        clientRateLimit: { qps: flags.clientQps, burst: clientBurst }
      }).pipe(
        Effect.mapError((error) => {
          switch (error._tag) {
            case "KubeConfigError":
              return new CliError({ message: error.message, hint: "pass --kubeconfig FILE or set $KUBECONFIG" })
            case "LeadershipLost":
              return new CliError({
                message: error.message,
                hint: "another replica leads now; this one exits so it can be restarted as a standby"
              })
            default:
              return new CliError({
                message: `cannot serve --metrics-address ${flags.metricsAddress}: ${error.message}`,
                hint: "pick a free port with --metrics-address"
              })
          }
        })
      )
    })
).pipe(Command.withDescription("Run Ark's controllers against a cluster (in-cluster, or with a kubeconfig)"))
