// `ark backup-location create|get`; set and delete are in locationChange.ts.
import { Console, DateTime, Duration, Effect, Either, Option, Schema } from "effect"

import { KubeClient } from "../../../services/KubeClient.ts"
import type { AccessMode, BackupStorageLocation, BackupStorageProvider, ObjectLockMode } from "../../api/index.ts"
import { apiVersion, BackupStorageLocation as BackupStorageLocationSchema } from "../../api/index.ts"
import type { LocationCheck } from "../../locations/validate.ts"
import { checkLocation } from "../../locations/validate.ts"
import { CliError } from "../errors.ts"
import { checkBackupStorageConfig, parseConfig } from "../locationConfig.ts"
import { arkCommand } from "../namespace.ts"
import type { OutputFormat } from "../render.ts"
import { renderDocument, renderTable, timeFromNow } from "../render.ts"
import { backupStorageLocationsGvr, getBackupStorageLocation, kubeFailure, listBackupStorageLocations } from "./kube.ts"
import { checkResourceName } from "./spec.ts"

export interface CreateLocationArgs {
  readonly name: string
  readonly namespace: string
  readonly provider: BackupStorageProvider
  readonly bucket: string
  readonly prefix: Option.Option<string>
  readonly config: Readonly<Record<string, string>>
  readonly accessMode: AccessMode
  /** S3 Object Lock on every backup's files, in this mode. */
  readonly objectLock?: Option.Option<ObjectLockMode>
  /** Mark it the default location (and unmark the others). */
  readonly default?: boolean
}

/** The BackupStorageLocation `ark backup-location create` submits; a prefix loses its outer slashes. */
export const backupStorageLocationResource = (args: CreateLocationArgs): BackupStorageLocation => {
  const prefix = Option.getOrElse(args.prefix, () => "").replace(/^\/+|\/+$/g, "")
  const config = args.config
  return {
    apiVersion,
    kind: "BackupStorageLocation",
    metadata: { name: args.name, namespace: args.namespace },
    spec: {
      provider: args.provider,
      objectStorage: {
        bucket: args.bucket,
        ...(prefix === "" ? {} : { prefix }),
        ...Option.match(args.objectLock ?? Option.none(), {
          onNone: () => ({}),
          onSome: (mode) => ({ objectLock: { mode } })
        })
      },
      ...(Object.keys(config).length > 0 ? { config } : {}),
      accessMode: args.accessMode,
      ...(args.default === true ? { default: true } : {})
    }
  }
}

/** The flags as given: `--config` values still `k=v[,k=v]`. */
export interface CreateLocationFlags extends Omit<CreateLocationArgs, "config"> {
  readonly config: ReadonlyArray<string>
}

export const createBackupLocation = Effect.fn("Cli.backupLocationCreate")(function*(flags: CreateLocationFlags) {
  const kube = yield* KubeClient
  const config = yield* Either.flatMap(
    parseConfig(flags.config),
    (parsed) => checkBackupStorageConfig(flags.provider, parsed)
  )
  const args: CreateLocationArgs = { ...flags, config }
  yield* checkResourceName("backup storage location", args.name)
  if (args.bucket.trim() === "") {
    return yield* new CliError({
      message: "--bucket must not be empty",
      hint: "name the bucket (a directory, for filesystem)"
    })
  }
  if (args.provider !== "aws" && Option.isSome(args.objectLock ?? Option.none())) {
    return yield* new CliError({
      message: `--object-lock needs provider aws (S3 Object Lock): a ${args.provider} location cannot retain files`,
      hint: "drop --object-lock, or use an S3 bucket created with Object Lock enabled"
    })
  }
  const location = backupStorageLocationResource(args)
  const encoded = yield* Schema.encode(BackupStorageLocationSchema)(location).pipe(
    Effect.mapError((error) => new CliError({ message: `invalid backup storage location: ${error.message}` }))
  )
  yield* kube.create(backupStorageLocationsGvr, encoded).pipe(
    Effect.mapError((error) =>
      error._tag === "KubeAlreadyExists"
        ? new CliError({
          message: `backup storage location "${args.name}" already exists in namespace ${args.namespace}`,
          hint: `${arkCommand(args.namespace, `backup-location get ${args.name}`)} shows it`
        })
        : kubeFailure(`cannot create backup storage location "${args.name}"`, args.namespace)(error)
    )
  )
  if (args.default === true) yield* unmarkOtherDefaults(args.name, args.namespace)
  const check = yield* reachability(location)
  if (check.phase === "Available") {
    yield* Console.log(
      `Backup storage location "${args.name}" created${
        args.default === true ? " as the default" : ""
      }; ${check.message}.`
    )
  } else {
    yield* Console.error(
      `warning: backup storage location "${args.name}" created, but its store cannot be reached: ${check.message}\n` +
        `hint: fix the location with \`${
          arkCommand(args.namespace, `backup-location set ${args.name} --config ...`)
        }\` or delete it; the server keeps it Unavailable until it is reachable`
    )
  }
})

/** The create-time check is the server's (locations/validate.ts), with a deadline a user waits out. */
const reachabilityDeadline = Duration.seconds(15)

const reachability = (location: BackupStorageLocation) =>
  checkLocation(location).pipe(
    Effect.timeout(reachabilityDeadline),
    Effect.catchAll(() =>
      Effect.succeed<LocationCheck>({
        phase: "Unavailable",
        message: `no answer within ${Duration.format(reachabilityDeadline)}`
      })
    )
  )

/** At most one location is the default: marking one unmarks the others, as Velero does. */
export const unmarkOtherDefaults = (name: string, namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const others = (yield* listBackupStorageLocations(namespace)).filter(({ decoded }) =>
      decoded.spec.default === true && decoded.metadata.name !== name
    )
    for (const { decoded } of others) {
      const other = decoded.metadata.name ?? ""
      yield* kube.patch(
        backupStorageLocationsGvr,
        other,
        { type: "merge", body: { spec: { default: false } } },
        namespace
      )
        .pipe(
          Effect.mapError((error) => kubeFailure(`cannot unmark location "${other}" as the default`, namespace)(error))
        )
    }
  })

/** The location marked default, if any: where a backup that names no location goes. */
export const markedDefaultLocation = (namespace: string) =>
  Effect.map(
    listBackupStorageLocations(namespace),
    (locations) =>
      Option.fromNullable(locations.find(({ decoded }) => decoded.spec.default === true)?.decoded.metadata.name)
  )

export const locationTableHeaders = [
  "NAME",
  "DEFAULT",
  "PROVIDER",
  "BUCKET/PREFIX",
  "PHASE",
  "LAST VALIDATED",
  "ACCESS MODE",
  "MESSAGE"
] as const

export const locationRow = (location: BackupStorageLocation, now: DateTime.Utc): ReadonlyArray<string> => {
  const { bucket, prefix } = location.spec.objectStorage
  return [
    location.metadata.name ?? "",
    location.spec.default === true ? "true" : "",
    location.spec.provider,
    prefix === undefined || prefix === "" ? bucket : `${bucket}/${prefix}`,
    location.status?.phase ?? "Unknown",
    location.status?.lastValidationTime === undefined
      ? "<never>"
      : timeFromNow(location.status.lastValidationTime, now),
    location.spec.accessMode,
    location.status?.message ?? ""
  ]
}

export interface GetLocationArgs {
  readonly name: Option.Option<string>
  readonly namespace: string
  readonly output: OutputFormat
  /** Keep `metadata.managedFields` in JSON and YAML (default: left out). */
  readonly showManagedFields?: boolean
}

export const getBackupLocations = Effect.fn("Cli.backupLocationGet")(function*(args: GetLocationArgs) {
  const found = yield* Option.match(args.name, {
    onNone: () => listBackupStorageLocations(args.namespace),
    onSome: (name) => Effect.map(getBackupStorageLocation(name, args.namespace), (location) => [location])
  })
  if (args.output !== "table") {
    return yield* Console.log(renderDocument(
      args.output,
      found.map(({ raw }) => raw),
      Option.isSome(args.name),
      args.showManagedFields === true
    ))
  }
  if (found.length === 0) {
    return yield* Console.log(`No backup storage locations found in namespace ${args.namespace}.`)
  }
  const now = yield* DateTime.now
  yield* Console.log(renderTable(locationTableHeaders, found.map(({ decoded }) => locationRow(decoded, now))))
})
