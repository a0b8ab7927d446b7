// `ark snapshot-location create|get`: VolumeSnapshotLocations, as `ark backup-location` does
// BackupStorageLocations.
import { Console, Effect, Either, Option, Schema, Stream } from "effect"

import type { KubeObject } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import type { VolumeSnapshotLocation, VolumeSnapshotProvider } from "../../api/index.ts"
import {
  apiVersion,
  formatDecodeError,
  VolumeSnapshotLocation as VolumeSnapshotLocationSchema
} from "../../api/index.ts"
import { volumeSnapshotLocationsGvr } from "../../volumes/locations.ts"
import { kubeFailure } from "../backup/kube.ts"
import { checkResourceName } from "../backup/spec.ts"
import { CliError } from "../errors.ts"
import { checkConfigKeys, parseConfig, volumeSnapshotConfigKeys } from "../locationConfig.ts"
import { arkCommand } from "../namespace.ts"
import type { OutputFormat } from "../render.ts"
import { renderDocument, renderTable } from "../render.ts"

export interface CreateSnapshotLocationArgs {
  readonly name: string
  readonly namespace: string
  readonly provider: VolumeSnapshotProvider
  readonly config: Readonly<Record<string, string>>
}

export const volumeSnapshotLocationResource = (args: CreateSnapshotLocationArgs): VolumeSnapshotLocation => {
  const config = args.config
  return {
    apiVersion,
    kind: "VolumeSnapshotLocation",
    metadata: { name: args.name, namespace: args.namespace },
    spec: { provider: args.provider, ...(Object.keys(config).length > 0 ? { config } : {}) }
  }
}

export const createSnapshotLocation = Effect.fn("Cli.snapshotLocationCreate")(
  function*(flags: Omit<CreateSnapshotLocationArgs, "config"> & { readonly config: ReadonlyArray<string> }) {
    const kube = yield* KubeClient
    const config = yield* Either.flatMap(
      parseConfig(flags.config),
      (parsed) => checkConfigKeys(flags.provider, volumeSnapshotConfigKeys[flags.provider], parsed)
    )
    const args: CreateSnapshotLocationArgs = { ...flags, config }
    yield* checkResourceName("volume snapshot location", args.name)
    const location = volumeSnapshotLocationResource(args)
    if (args.provider === "local" && (location.spec.config?.["path"] ?? "") === "") {
      return yield* new CliError({
        message: "provider local needs --config path=DIR",
        hint: "the directory that holds the snapshots"
      })
    }
    if (args.provider === "aws" && (location.spec.config?.["region"] ?? "") === "") {
      return yield* new CliError({
        message: "provider aws needs --config region=REGION",
        hint: "the region of the volumes, e.g. --config region=us-east-1"
      })
    }
    const encoded = yield* Schema.encode(VolumeSnapshotLocationSchema)(location).pipe(
      Effect.mapError((error) => new CliError({ message: `invalid volume snapshot location: ${error.message}` }))
    )
    yield* kube.create(volumeSnapshotLocationsGvr, encoded).pipe(
      Effect.mapError((error) =>
        error._tag === "KubeAlreadyExists"
          ? new CliError({
            message: `volume snapshot location "${args.name}" already exists in namespace ${args.namespace}`,
            hint: `${arkCommand(args.namespace, `snapshot-location get ${args.name}`)} shows it`
          })
          : kubeFailure(`cannot create volume snapshot location "${args.name}"`, args.namespace)(error)
      )
    )
    yield* Console.log(`Volume snapshot location "${args.name}" configured successfully.`)
  }
)

export const snapshotLocationTableHeaders = ["NAME", "PROVIDER", "CONFIG", "PHASE"] as const

export const snapshotLocationRow = (location: VolumeSnapshotLocation): ReadonlyArray<string> => [
  location.metadata.name ?? "",
  location.spec.provider,
  Object.entries(location.spec.config ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) =>
    `${key}=${value}`
  ).join(","),
  location.status?.phase ?? "Unknown"
]

export interface GetSnapshotLocationsArgs {
  readonly name: Option.Option<string>
  readonly namespace: string
  readonly output: OutputFormat
  /** Keep `metadata.managedFields` in JSON and YAML (default: left out). */
  readonly showManagedFields?: boolean
}

const decode = (object: KubeObject) =>
  Schema.decodeUnknown(VolumeSnapshotLocationSchema)(object).pipe(
    Effect.mapError((error) =>
      new CliError({
        message: `volume snapshot location "${object.metadata.name ?? ""}" is malformed: ${
          formatDecodeError(error).join("; ")
        }`,
        hint: "fix or recreate it with kubectl; it does not match Ark's CRD"
      })
    )
  )

const readLocations = (name: Option.Option<string>, namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    if (Option.isSome(name)) {
      const object = yield* kube.get(volumeSnapshotLocationsGvr, name.value, namespace).pipe(
        Effect.mapError((error) =>
          error._tag === "KubeNotFound" && error.name === name.value
            ? new CliError({
              message: `volume snapshot location "${name.value}" not found in namespace ${namespace}`,
              hint: `${arkCommand(namespace, "snapshot-location get")} lists them`
            })
            : kubeFailure(`cannot read volume snapshot location "${name.value}"`, namespace)(error)
        )
      )
      return [object]
    }
    const pages = yield* kube.listPages(volumeSnapshotLocationsGvr, { namespace, limit: 500 }).pipe(
      Stream.runCollect,
      Effect.mapError((error) => kubeFailure("cannot list volume snapshot locations", namespace)(error))
    )
    return [...pages].flatMap((page) => page.items).sort((a, b) =>
      (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "")
    )
  })

export const getSnapshotLocations = Effect.fn("Cli.snapshotLocationGet")(function*(args: GetSnapshotLocationsArgs) {
  const raw = yield* readLocations(args.name, args.namespace)
  if (args.output !== "table") {
    return yield* Console.log(
      renderDocument(args.output, raw, Option.isSome(args.name), args.showManagedFields === true)
    )
  }
  if (raw.length === 0) return yield* Console.log(`No volume snapshot locations found in namespace ${args.namespace}.`)
  const decoded = yield* Effect.forEach(raw, (object) => decode(object))
  yield* Console.log(
    renderTable(snapshotLocationTableHeaders, decoded.map((location) => snapshotLocationRow(location)))
  )
})
