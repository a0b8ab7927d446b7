// `ark restore create` flags → the Restore resource it submits. Pure: every bad flag becomes a
// CliError here, before anything reaches the cluster.
import { DateTime, Either, Option, Schema } from "effect"

import type { ExistingResourcePolicy, Restore } from "../../api/index.ts"
import { apiVersion, backupNameLabel, nameMarkers, RestoreSpec, withMarkers } from "../../api/index.ts"
import { namespaceMappingCollisions } from "../../restore/mapping.ts"
import { checkResourceName, selectorsFromFlags } from "../backup/spec.ts"
import { CliError } from "../errors.ts"

/** The parsed flags of `ark restore create`, apart from its name, connection and --wait/--dry-run. */
export interface RestoreFlags {
  readonly fromBackup: Option.Option<string>
  readonly fromSchedule: Option.Option<string>
  readonly namespaceMappings: ReadonlyArray<string>
  readonly includeNamespaces: ReadonlyArray<string>
  readonly excludeNamespaces: ReadonlyArray<string>
  readonly includeResources: ReadonlyArray<string>
  readonly excludeResources: ReadonlyArray<string>
  readonly selector: Option.Option<string>
  readonly orSelector: Option.Option<string>
  readonly includeClusterResources: Option.Option<boolean>
  readonly restoreVolumes: Option.Option<boolean>
  /** Keep every Service nodePort, auto-assigned ones too (Velero's --preserve-nodeports). */
  readonly preserveNodePorts: boolean
  readonly existingResourcePolicy: ExistingResourcePolicy
  /** Velero's --resource-modifier-configmap: a ConfigMap in the server namespace holding resource modifier rules. */
  readonly resourceModifierConfigmap: Option.Option<string>
}

export const noRestoreFlags: RestoreFlags = {
  fromBackup: Option.none(),
  fromSchedule: Option.none(),
  namespaceMappings: [],
  includeNamespaces: [],
  excludeNamespaces: [],
  includeResources: [],
  excludeResources: [],
  selector: Option.none(),
  orSelector: Option.none(),
  includeClusterResources: Option.none(),
  restoreVolumes: Option.none(),
  preserveNodePorts: false,
  existingResourcePolicy: "none",
  resourceModifierConfigmap: Option.none()
}

/** Where the restore reads from: one backup, or the newest Completed backup of a schedule. */
export type RestoreSource =
  | { readonly _tag: "Backup"; readonly name: string }
  | { readonly _tag: "Schedule"; readonly name: string }

export const restoreSource = (flags: RestoreFlags): Either.Either<RestoreSource, CliError> => {
  const backup = Option.filter(flags.fromBackup, (name) => name !== "")
  const schedule = Option.filter(flags.fromSchedule, (name) => name !== "")
  if (Option.isSome(backup) && Option.isSome(schedule)) {
    return Either.left(
      new CliError({
        message: "--from-backup and --from-schedule cannot be combined",
        hint: "restore one backup (--from-backup NAME), or a schedule's latest (--from-schedule NAME)"
      })
    )
  }
  if (Option.isSome(backup)) return Either.right({ _tag: "Backup", name: backup.value })
  if (Option.isSome(schedule)) return Either.right({ _tag: "Schedule", name: schedule.value })
  return Either.left(
    new CliError({
      message: "a restore needs --from-backup NAME or --from-schedule NAME",
      hint: "ark backup get lists the backups"
    })
  )
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

const mappingError = (entry: string, problem: string) =>
  new CliError({
    message: `invalid --namespace-mappings entry "${entry}": ${problem}`,
    hint: "give old:new pairs separated by commas, e.g. --namespace-mappings abc:def,123:456"
  })

/** `abc:def,123:456` (already split at commas) → `{abc: "def", "123": "456"}`. */
export const parseNamespaceMappings = (
  entries: ReadonlyArray<string>
): Either.Either<Readonly<Record<string, string>>, CliError> => {
  const mapping: Record<string, string> = {}
  for (const entry of entries) {
    const parts = entry.split(":").map((part) => part.trim())
    const [from = "", to = ""] = parts
    if (parts.length !== 2 || from === "" || to === "") return Either.left(mappingError(entry, "expected old:new"))
    for (const namespace of [from, to]) {
      if (namespace.length > 63 || !dnsLabel.test(namespace)) {
        return Either.left(mappingError(
          entry,
          `"${namespace}" is not a valid namespace name (lowercase letters, digits and '-', at most 63 characters)`
        ))
      }
    }
    if (Object.hasOwn(mapping, from)) return Either.left(mappingError(entry, `namespace "${from}" is mapped twice`))
    mapping[from] = to
  }
  const collisions = namespaceMappingCollisions(mapping)
  if (collisions.length > 0) {
    return Either.left(
      new CliError({
        message: `invalid --namespace-mappings: ${collisions.join("; ")}`,
        hint: "map each namespace to its own target, one that is not itself mapped (e.g. a:a-copy,b:b-copy)"
      })
    )
  }
  return Either.right(mapping)
}

/** `YYYYMMDDhhmmss` in UTC, the suffix of default restore and scheduled backup names. */
export const nameTimestamp = (now: DateTime.DateTime): string =>
  DateTime.formatIso(DateTime.toUtc(now)).replace(/\.[0-9]+Z$|Z$/, "").replace(/[-:T]/g, "")

/** The default restore name: `<backup>-<YYYYMMDDhhmmss>`, the backup's name cut so that it stays within 253 characters. */
export const defaultRestoreName = (source: string, now: DateTime.DateTime): string =>
  `${source.slice(0, 253 - "-YYYYMMDDhhmmss".length).replace(/[^a-z0-9]+$/, "")}-${nameTimestamp(now)}`

/** The restore's name as given, else the default; either must be a valid resource name. */
export const restoreName = (given: Option.Option<string>, source: RestoreSource, now: DateTime.DateTime) => {
  const name = Option.getOrElse(given, () => defaultRestoreName(source.name, now))
  return Either.mapLeft(checkResourceName("restore", name), (error) =>
    new CliError({
      message: error.message,
      hint: "for example: ark restore create shop-restore --from-backup nightly (or leave the name out for a default)"
    }))
}

const nonEmpty = <K extends string>(key: K, values: ReadonlyArray<string>) =>
  values.length > 0 ? { [key]: values } as Record<K, ReadonlyArray<string>> : {}

const present = <K extends string, A>(key: K, value: Option.Option<A>) =>
  Option.isSome(value) ? { [key]: value.value } as Record<K, A> : {}

/** The spec a Restore gets from these flags, with restorePVs and existingResourcePolicy written out. */
export const restoreSpecFromFlags = (flags: RestoreFlags): Either.Either<RestoreSpec, CliError> =>
  Either.gen(function*() {
    const source = yield* restoreSource(flags)
    const namespaceMapping = yield* parseNamespaceMappings(flags.namespaceMappings)
    const { labelSelector, orLabelSelectors } = yield* Either.mapLeft(
      selectorsFromFlags(flags),
      (error) =>
        new CliError({
          message: error.message.replace("a backup's", "a restore's"),
          ...(error.hint === undefined ? {} : { hint: error.hint })
        })
    )
    const fields = {
      ...(source._tag === "Backup" ? { backupName: source.name } : { scheduleName: source.name }),
      ...nonEmpty("includedNamespaces", flags.includeNamespaces),
      ...nonEmpty("excludedNamespaces", flags.excludeNamespaces),
      ...nonEmpty("includedResources", flags.includeResources),
      ...nonEmpty("excludedResources", flags.excludeResources),
      ...(Object.keys(namespaceMapping).length > 0 ? { namespaceMapping } : {}),
      ...present("labelSelector", labelSelector),
      ...present("orLabelSelectors", orLabelSelectors),
      ...present("includeClusterResources", flags.includeClusterResources),
      ...present("restorePVs", flags.restoreVolumes),
      ...(flags.preserveNodePorts ? { preserveNodePorts: true } : {}),
      existingResourcePolicy: flags.existingResourcePolicy,
      ...present(
        "resourceModifier",
        Option.map(flags.resourceModifierConfigmap, (name) => ({ kind: "ConfigMap", name }))
      )
    }
    return yield* Either.mapLeft(
      Schema.decodeUnknownEither(RestoreSpec)(fields),
      (error) => new CliError({ message: `invalid restore flags: ${error.message}` })
    )
  })

/** The Restore resource `ark restore create` submits, labelled with its backup when it names one. */
export const restoreResource = (name: string, namespace: string, spec: RestoreSpec): Restore => ({
  apiVersion,
  kind: "Restore",
  metadata: spec.backupName === undefined
    ? { name, namespace }
    : withMarkers({ name, namespace }, nameMarkers({ [backupNameLabel]: spec.backupName })),
  spec
})
