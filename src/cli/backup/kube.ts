// Reading and writing Ark's resources from the CLI: the resource types, decoding, and turning
// the API server's errors into one line and a hint.
import type { ParseResult } from "effect"
import { Effect, Schema, Stream } from "effect"

import type { GroupVersionResource, KubeError, KubeObject } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import { Backup, BackupStorageLocation, formatDecodeError, group, Schedule, version } from "../../api/index.ts"
import { CliError } from "../errors.ts"
import { arkCommand } from "../namespace.ts"

export const backupsGvr: GroupVersionResource = { group, version, resource: "backups" }
export const schedulesGvr: GroupVersionResource = { group, version, resource: "schedules" }
export const backupStorageLocationsGvr: GroupVersionResource = { group, version, resource: "backupstoragelocations" }
export const volumeSnapshotLocationsGvr: GroupVersionResource = { group, version, resource: "volumesnapshotlocations" }

/** How each resource type is named in messages, and the `ark ... get` that lists it. */
const names: Record<string, { readonly kind: string; readonly command: string }> = {
  backups: { kind: "backup", command: "backup get" },
  schedules: { kind: "schedule", command: "schedule get" },
  backupstoragelocations: { kind: "backup storage location", command: "backup-location get" },
  volumesnapshotlocations: { kind: "volume snapshot location", command: "snapshot-location get" }
}

/** A 404 about the object itself, not about its type (a CRD that is not installed answers 404 too). */
const isMissingObject = (error: KubeError, name: string) =>
  error._tag === "KubeNotFound" && error.name === name &&
  !error.message.includes("could not find the requested resource")

const describeType = (gvr: GroupVersionResource) =>
  names[gvr.resource] ?? { kind: gvr.resource, command: `${gvr.resource} get` }

/** The command that lists the resources of `gvr` in `namespace`. */
const listCommand = (gvr: GroupVersionResource, namespace: string) => {
  const known = names[gvr.resource]
  return known === undefined ? `kubectl -n ${namespace} get ${gvr.resource}` : arkCommand(namespace, known.command)
}

/** `while <doing>: <what the server said>` plus what to check, for any Kubernetes failure. */
export const kubeFailure = (doing: string, namespace: string) => (error: KubeError): CliError => {
  switch (error._tag) {
    case "KubeNotFound":
      return new CliError({
        message: `${doing}: ${error.message}`,
        hint: `is Ark installed in namespace ${namespace}? Its CRDs come with \`ark install\`; or pass --namespace`
      })
    case "KubeForbidden":
      return new CliError({
        message: `${doing}: ${error.message}`,
        hint: "your kubeconfig's user lacks the RBAC rights for Ark's resources"
      })
    case "KubeUnavailable":
      return new CliError({
        message: `${doing}: the API server is unavailable: ${error.message}`,
        hint: "check --kubeconfig (or $KUBECONFIG) and that the cluster is up"
      })
    case "KubeAlreadyExists":
      return new CliError({
        message: `${doing}: ${error.message}`,
        hint: "choose another name, or delete the existing one first"
      })
    default:
      return new CliError({ message: `${doing}: ${error.message}` })
  }
}

const decodeFailure = (gvr: GroupVersionResource, name: string, error: ParseResult.ParseError) =>
  new CliError({
    message: `${describeType(gvr).kind} "${name}" is malformed: ${formatDecodeError(error).join("; ")}`,
    hint: "fix or recreate it with kubectl; it does not match Ark's CRD"
  })

const decoderOf = <A, I>(gvr: GroupVersionResource, schema: Schema.Schema<A, I>) => (object: KubeObject) =>
  Schema.decodeUnknown(schema)(object).pipe(
    Effect.mapError((error) => decodeFailure(gvr, object.metadata.name ?? "", error))
  )

/** Gets one resource by name; a missing one is `error: backup "x" not found in namespace heptio-ark`. */
const getDecoded =
  <A, I>(gvr: GroupVersionResource, schema: Schema.Schema<A, I>) => (name: string, namespace: string) =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      const { kind } = describeType(gvr)
      const object = yield* kube.get(gvr, name, namespace).pipe(
        Effect.mapError((error) =>
          isMissingObject(error, name)
            ? new CliError({
              message: `${kind} "${name}" not found in namespace ${namespace}`,
              hint: `${listCommand(gvr, namespace)} lists them`
            })
            : kubeFailure(`cannot read ${kind} "${name}"`, namespace)(error)
        )
      )
      return { raw: object, decoded: yield* decoderOf(gvr, schema)(object) }
    })

/** Every resource of a type in the namespace, raw and decoded, sorted by name. */
const listDecoded = <A, I>(gvr: GroupVersionResource, schema: Schema.Schema<A, I>) => (namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const pages = yield* kube.listPages(gvr, { namespace, limit: 500 }).pipe(
      Stream.runCollect,
      Effect.mapError((error) => kubeFailure(`cannot list ${describeType(gvr).kind}s`, namespace)(error))
    )
    const objects = [...pages].flatMap((page) => page.items)
      .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""))
    return yield* Effect.forEach(
      objects,
      (raw) => decoderOf(gvr, schema)(raw).pipe(Effect.map((decoded) => ({ raw, decoded })))
    )
  })

export const getBackup = getDecoded(backupsGvr, Backup)
export const listBackups = listDecoded(backupsGvr, Backup)
export const getSchedule = getDecoded(schedulesGvr, Schedule)
export const getBackupStorageLocation = getDecoded(backupStorageLocationsGvr, BackupStorageLocation)
export const listBackupStorageLocations = listDecoded(backupStorageLocationsGvr, BackupStorageLocation)

/** Checks that a named resource exists, for flags that refer to one (`--storage-location`). */
export const requireExisting = (gvr: GroupVersionResource, flag: string) => (name: string, namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const { kind } = describeType(gvr)
    yield* kube.get(gvr, name, namespace).pipe(
      Effect.mapError((error) =>
        isMissingObject(error, name)
          ? new CliError({
            message: `${flag} ${name}: ${kind} "${name}" not found in namespace ${namespace}`,
            hint: `${listCommand(gvr, namespace)} lists them`
          })
          : kubeFailure(`cannot read ${kind} "${name}"`, namespace)(error)
      )
    )
  })
