import { Command, Options } from "@effect/cli"
import { Duration, Effect, Either, FiberRef, LogLevel, Option } from "effect"

import { parseGoDuration } from "../../api/duration.ts"
import type { LogLevelName, ServerOptions } from "../../server/main.ts"
import { CliError } from "../errors.ts"
import { connection, duration } from "../options.ts"

const period = (name: string, fallback: string, description: string) =>
  duration(name, description).pipe(Options.withDefault(fallback))

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

/**
 * The opt-in client-side token bucket: none unless --client-qps is given; its burst defaults to
 * twice the rate, as client-go's 5/10.
 */
const rateLimitOf = (
  qps: Option.Option<number>,
  burst: Option.Option<number>
): Effect.Effect<Option.Option<NonNullable<ServerOptions["clientRateLimit"]>>, CliError> =>
  Effect.gen(function*() {
    if (Option.isNone(qps)) {
      if (Option.isNone(burst)) return Option.none()
      return yield* new CliError({
        message: "--client-burst needs --client-qps",
        hint: "pass --client-qps too (a burst only shapes a steady rate), or neither for no client-side cap"
      })
    }
    if (!(qps.value > 0) || !Number.isFinite(qps.value)) {
      return yield* new CliError({ message: `--client-qps must be a number above 0, got ${qps.value}` })
    }
    const allowed = yield* Option.match(burst, {
      onNone: () => Effect.succeed(Math.max(1, Math.ceil(2 * qps.value))),
      onSome: (value) => atLeastOne("client-burst", value)
    })
    return Option.some({ qps: qps.value, burst: allowed })
  })

/**
 * A restore's items die young but, many in flight at once, survive a scavenge or two and are
 * promoted; with its default growth V8 lets such garbage pile up to 2–3 times the live heap before
 * a full collection (a 10k-object restore peaked at ~380 MiB). Growing the old generation by at
 * most half its live size keeps the peak near 250 MiB for ~7% of the restore's rate. Unlike the
 * young generation's size (bin/ark.mjs), V8 reads this flag whenever it sets the next limit.
 */
const boundOldGeneration = (setFlagsFromString: (flags: string) => void) => {
  if (!process.execArgv.concat(process.env["NODE_OPTIONS"] ?? "").join(" ").includes("heap-growing-percent")) {
    setFlagsFromString("--heap-growing-percent=50")
  }
}

/**
 * The --log-level @effect/cli took for itself. When --log-level comes before the command's other
 * flags, @effect/cli treats it as its own built-in: it drops it and runs the command under that
 * minimum level, leaving this flag at its default; so a default `info` is read from there instead
 * (src/cli/help/route.ts has already held the value to this flag's choices).
 */
const requestedLogLevel = FiberRef.get(FiberRef.currentMinimumLogLevel).pipe(
  Effect.map((level): LogLevelName =>
    LogLevel.lessThanEqual(level, LogLevel.Debug)
      ? "debug"
      : level._tag === "Warning"
      ? "warning"
      : LogLevel.greaterThanEqual(level, LogLevel.Error)
      ? "error"
      : "info"
  )
)

export const serverCommand = Command.make(
  "server",
  {
    ...connection,
    restoreOnly: Options.boolean("restore-only").pipe(
      Options.withDescription("run only restores and storage sync: no backups, schedules or garbage collection")
    ),
    verifyAfterBackup: Options.boolean("verify-after-backup").pipe(
      Options.withDescription("read each committed backup back from storage and record the result in its status")
    ),
    backupSyncPeriod: period(
      "backup-sync-period",
      "1m",
      "how often to sync backups from object storage and check storage locations"
    ),
    gcSyncPeriod: period("gc-sync-period", "1h", "how often to look for expired backups"),
    scheduleSyncPeriod: period("schedule-sync-period", "1m", "how often to re-check schedules"),
    metricsAddress: Options.text("metrics-address").pipe(
      Options.withPseudoName("ADDRESS"),
      Options.withDescription("where to serve /metrics, /healthz and /readyz: HOST:PORT or :PORT"),
      Options.withDefault(":8085")
    ),
    logLevel: Options.choice("log-level", ["debug", "info", "warning", "error"]).pipe(
      Options.withDescription("the least severe log messages to write"),
      Options.withDefault("info")
    ),
    logFormat: Options.choice("log-format", ["json", "text"]).pipe(
      Options.withDescription("json (one object per line) or text (logfmt)"),
      Options.withDefault("json")
    ),
    backupConcurrency: Options.integer("backup-concurrency").pipe(
      Options.withDescription("backups that run at once; more wait in phase New"),
      Options.withDefault(2)
    ),
    restoreConcurrency: Options.integer("restore-concurrency").pipe(
      Options.withDescription("restores that run at once; more wait in phase New"),
      Options.withDefault(2)
    ),
    clientQps: Options.float("client-qps").pipe(
      Options.withDescription(
        "cap API server requests at this steady rate per second; unset (the default): no client-side cap, the API server's Priority and Fairness limits them and a restore adapts its concurrency to the server's 429s"
      ),
      Options.optional
    ),
    clientBurst: Options.integer("client-burst").pipe(
      Options.withDescription(
        "requests allowed at once above --client-qps; only with --client-qps, default twice it (client-go's ratio), since a burst means nothing without a steady rate"
      ),
      Options.optional
    )
  },
  (flags) =>
    Effect.gen(function*() {
      const backupSyncPeriod = yield* positiveDuration("backup-sync-period", flags.backupSyncPeriod)
      const gcPeriod = yield* positiveDuration("gc-sync-period", flags.gcSyncPeriod)
      const scheduleSyncPeriod = yield* positiveDuration("schedule-sync-period", flags.scheduleSyncPeriod)
      // Loaded here, not at `ark`'s start (src/cli/lazy.ts).
      const [{ parseMetricsAddress }, { runServer }, { setFlagsFromString }] = yield* Effect.promise(() =>
        Promise.all([import("../../server/http.ts"), import("../../server/main.ts"), import("node:v8")])
      )
      yield* Either.match(parseMetricsAddress(flags.metricsAddress), {
        onLeft: (error) =>
          Effect.fail(
            new CliError({ message: error.message, hint: "use HOST:PORT or :PORT, e.g. :8085 or 127.0.0.1:8085" })
          ),
        onRight: () => Effect.void
      })
      const backupConcurrency = yield* atLeastOne("backup-concurrency", flags.backupConcurrency)
      const restoreConcurrency = yield* atLeastOne("restore-concurrency", flags.restoreConcurrency)
      const clientRateLimit = yield* rateLimitOf(flags.clientQps, flags.clientBurst)
      const logLevel = flags.logLevel === "info" ? yield* requestedLogLevel : flags.logLevel
      yield* Effect.sync(() => boundOldGeneration(setFlagsFromString))
      return yield* runServer({
        kubeconfig: flags.kubeconfig,
        namespace: flags.namespace,
        restoreOnly: flags.restoreOnly,
        verifyAfterBackup: flags.verifyAfterBackup,
        backupConcurrency,
        restoreConcurrency,
        locationValidationPeriod: backupSyncPeriod,
        backupSyncPeriod,
        gcPeriod,
        scheduleSyncPeriod,
        metricsAddress: flags.metricsAddress,
        logFormat: flags.logFormat,
        logLevel,
        ...Option.match(clientRateLimit, { onNone: () => ({}), onSome: (limit) => ({ clientRateLimit: limit }) })
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
