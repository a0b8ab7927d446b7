// `ark backup create` flags → the Backup resource it submits. Pure: every bad flag becomes a
// CliError here, before anything reaches the cluster.
import { Either, Option, Schema } from "effect"

import type { Backup, LabelSelector, Schedule } from "../../api/index.ts"
import { apiVersion, BackupSpec, parseGoDuration } from "../../api/index.ts"
import { parseOrderedResources } from "../../backup/order.ts"
import type { Requirement } from "../../kube/labelSelector.ts"
import { labelKeyProblem, labelValueProblem, parseLabelSelector } from "../../kube/labelSelector.ts"
import { backupOfSchedule } from "../../schedule/backup.ts"
import { CliError } from "../errors.ts"
import { parseMap } from "../mapFlag.ts"

/** The parsed flags of `options.backupSpec`; shared with `schedule create`. */
export interface BackupFlags {
  readonly includeNamespaces: ReadonlyArray<string>
  readonly excludeNamespaces: ReadonlyArray<string>
  readonly includeResources: ReadonlyArray<string>
  readonly excludeResources: ReadonlyArray<string>
  readonly selector: Option.Option<string>
  readonly orSelector: Option.Option<string>
  readonly includeClusterResources: Option.Option<boolean>
  readonly snapshotVolumes: Option.Option<boolean>
  readonly ttl: Option.Option<string>
  readonly storageLocation: Option.Option<string>
  readonly volumeSnapshotLocations: ReadonlyArray<string>
  /** Velero's `resource=ns/name,...;resource=name` */
  readonly orderedResources: Option.Option<string>
}

export const noBackupFlags: BackupFlags = {
  includeNamespaces: [],
  excludeNamespaces: [],
  includeResources: [],
  excludeResources: [],
  selector: Option.none(),
  orSelector: Option.none(),
  includeClusterResources: Option.none(),
  snapshotVolumes: Option.none(),
  ttl: Option.none(),
  storageLocation: Option.none(),
  volumeSnapshotLocations: [],
  orderedResources: Option.none()
}

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** A resource name the API server will accept (RFC 1123 subdomain), or the CliError saying why not. */
export const checkResourceName = (kind: string, name: string): Either.Either<string, CliError> =>
  name.length <= 253 && dnsSubdomain.test(name)
    ? Either.right(name)
    : Either.left(
      new CliError({
        message: `invalid ${kind} name "${name}": use lowercase letters, digits, '-' and '.', ` +
          "starting and ending with a letter or digit (at most 253 characters)",
        hint: `for example: ark ${kind === "backup" ? "backup" : "backup-location"} create nightly-2024-05-01`
      })
    )

/**
 * The string selector as a metav1.LabelSelector, as `metav1.ParseToLabelSelector` does, except that
 * `k!=v` becomes `NotIn [v]` (same meaning) instead of an error. `>`/`<` have no metav1 form.
 */
export const toLabelSelector = (text: string, flag = "--selector"): Either.Either<LabelSelector, CliError> =>
  Either.mapLeft(parseLabelSelector(text), (error) => selectorError(flag, text, error.message)).pipe(
    Either.flatMap((requirements) => {
      const matchLabels: Record<string, string> = {}
      const matchExpressions: Array<
        { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: Array<string> }
      > = []
      for (const requirement of requirements) {
        const expression = toExpression(requirement)
        if (expression === undefined) {
          return Either.left(
            selectorError(
              flag,
              text,
              `'${requirement.operator === "gt" ? ">" : "<"}' is not supported in a backup's label selector`
            )
          )
        }
        if (expression === "label") {
          const value = requirement.values[0] ?? ""
          if (Object.hasOwn(matchLabels, requirement.key)) {
            matchExpressions.push({ key: requirement.key, operator: "In", values: [value] })
          } else matchLabels[requirement.key] = value
        } else {
          matchExpressions.push(expression)
        }
      }
      return Either.right({
        ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
        ...(matchExpressions.length > 0 ? { matchExpressions } : {})
      })
    })
  )

const toExpression = (requirement: Requirement) => {
  const values = [...requirement.values]
  switch (requirement.operator) {
    case "=":
    case "==":
      return "label" as const
    case "!=":
    case "notin":
      return { key: requirement.key, operator: "NotIn" as const, values }
    case "in":
      return { key: requirement.key, operator: "In" as const, values }
    case "exists":
      return { key: requirement.key, operator: "Exists" as const }
    case "!":
      return { key: requirement.key, operator: "DoesNotExist" as const }
    case "gt":
    case "lt":
      return undefined
  }
}

const selectorError = (flag: string, text: string, problem: string) =>
  new CliError({
    message: `invalid ${flag} "${text}": ${problem}`,
    hint: flag === "--or-selector"
      ? "separate the selectors with ' or ', as in 'app=web or tier in (cache,db)'"
      : "selectors look like app=web,tier!=cache or 'env in (prod,staging)'"
  })

/** Velero's `--or-selector 'a=b or c=d'`: an object is taken when any of the selectors matches it. */
export const toOrLabelSelectors = (text: string): Either.Either<ReadonlyArray<LabelSelector>, CliError> =>
  Either.all(
    text.split(" or ").map((part) =>
      part.trim() === ""
        ? Either.left(selectorError("--or-selector", text, "an empty selector between ' or 's would match everything"))
        : toLabelSelector(part.trim(), "--or-selector")
    )
  )

/** `-l` and `--or-selector` (of a backup, schedule or restore), which exclude each other. */
export const selectorsFromFlags = (flags: {
  readonly selector: Option.Option<string>
  readonly orSelector: Option.Option<string>
}): Either.Either<
  {
    readonly labelSelector: Option.Option<LabelSelector>
    readonly orLabelSelectors: Option.Option<ReadonlyArray<LabelSelector>>
  },
  CliError
> =>
  Either.gen(function*() {
    if (Option.isSome(flags.selector) && Option.isSome(flags.orSelector)) {
      return yield* Either.left(
        new CliError({
          message: "--selector and --or-selector cannot be combined: give one or the other",
          hint: "put the --selector's requirements into each ' or ' branch of --or-selector"
        })
      )
    }
    const labelSelector = yield* Option.match(flags.selector, {
      onNone: () => Either.right(Option.none<LabelSelector>()),
      onSome: (text) => Either.map(toLabelSelector(text), (selector) => Option.some(selector))
    })
    const orLabelSelectors = yield* Option.match(flags.orSelector, {
      onNone: () => Either.right(Option.none<ReadonlyArray<LabelSelector>>()),
      onSome: (text) => Either.map(toOrLabelSelectors(text), (selectors) => Option.some(selectors))
    })
    return { labelSelector, orLabelSelectors }
  })

const ttlError = (text: string) =>
  new CliError({
    message: `invalid --ttl "${text}": expected a Go duration such as 72h, 30m or 1h30m`,
    hint: "units are h, m, s, ms, us, ns (no days: 30 days is 720h)"
  })

/**
 * The spec a Backup gets from these flags, with the Backup defaults written out
 * (includedNamespaces/Resources `*`, ttl 720h, storageLocation default, snapshotVolumes true) so
 * the resource says exactly what will be backed up.
 */
export const backupSpecFromFlags = (flags: BackupFlags): Either.Either<BackupSpec, CliError> =>
  Either.gen(function*() {
    const ttl = yield* Option.match(flags.ttl, {
      onNone: () => Either.right(Option.none<string>()),
      onSome: (text) =>
        Option.isSome(parseGoDuration(text)) ? Either.right(Option.some(text)) : Either.left(ttlError(text))
    })
    const { labelSelector, orLabelSelectors } = yield* selectorsFromFlags(flags)
    const orderedResources = yield* Option.match(flags.orderedResources, {
      onNone: () => Either.right(Option.none<Readonly<Record<string, string>>>()),
      onSome: (text) =>
        Either.mapBoth(parseOrderedResources(text), {
          onLeft: (problem) =>
            new CliError({
              message: `invalid --ordered-resources "${text}": ${problem}`,
              hint: "give resource=namespace/name,... entries separated by ';' (a name alone for cluster-scoped " +
                "resources), e.g. --ordered-resources 'pods=ns1/a,ns1/b;persistentvolumes=pv1'"
            }),
          onRight: (orders) => Option.some(orders)
        })
    })
    const fields = {
      ...nonEmpty("includedNamespaces", flags.includeNamespaces),
      ...nonEmpty("excludedNamespaces", flags.excludeNamespaces),
      ...nonEmpty("includedResources", flags.includeResources),
      ...nonEmpty("excludedResources", flags.excludeResources),
      ...present("labelSelector", labelSelector),
      ...present("orLabelSelectors", orLabelSelectors),
      ...present("includeClusterResources", flags.includeClusterResources),
      ...present("snapshotVolumes", flags.snapshotVolumes),
      ...present("ttl", ttl),
      ...present("storageLocation", flags.storageLocation),
      ...nonEmpty("volumeSnapshotLocations", flags.volumeSnapshotLocations),
      ...present("orderedResources", orderedResources)
    }
    // The schema fills the defaults; the checks above already caught what it would reject.
    return yield* Either.mapLeft(
      Schema.decodeUnknownEither(BackupSpec)(fields),
      (error) => new CliError({ message: `invalid backup flags: ${error.message}` })
    )
  })

const nonEmpty = <K extends string>(key: K, values: ReadonlyArray<string>) =>
  values.length > 0 ? { [key]: values } as Record<K, ReadonlyArray<string>> : {}

const present = <K extends string, A>(key: K, value: Option.Option<A>) =>
  Option.isSome(value) ? { [key]: value.value } as Record<K, A> : {}

/** The flags the user actually gave, by name: `--from-schedule` takes the whole spec from the template instead. */
export const givenSpecFlags = (flags: BackupFlags): ReadonlyArray<string> =>
  [
    ["--include-namespaces", flags.includeNamespaces.length > 0],
    ["--exclude-namespaces", flags.excludeNamespaces.length > 0],
    ["--include-resources", flags.includeResources.length > 0],
    ["--exclude-resources", flags.excludeResources.length > 0],
    ["--selector", Option.isSome(flags.selector)],
    ["--or-selector", Option.isSome(flags.orSelector)],
    ["--include-cluster-resources", Option.isSome(flags.includeClusterResources)],
    ["--snapshot-volumes", Option.isSome(flags.snapshotVolumes)],
    ["--ttl", Option.isSome(flags.ttl)],
    ["--storage-location", Option.isSome(flags.storageLocation)],
    ["--volume-snapshot-locations", flags.volumeSnapshotLocations.length > 0],
    ["--ordered-resources", Option.isSome(flags.orderedResources)]
  ].flatMap(([flag, given]) => (given === true ? [String(flag)] : []))

/** The Backup resource `ark backup create` submits. */
export const backupResource = (
  name: string,
  namespace: string,
  spec: BackupSpec,
  labels: Readonly<Record<string, string>> = {}
): Backup => ({
  apiVersion,
  kind: "Backup",
  metadata: { name, namespace, ...(Object.keys(labels).length > 0 ? { labels } : {}) },
  spec
})

/** `--from-schedule`: the schedule's template, labelled and annotated as the schedule's own backups are. */
export const backupFromSchedule = (name: string, namespace: string, schedule: Schedule): Backup =>
  backupOfSchedule(schedule, name, namespace)

/** `--labels` and `--annotations`: metadata of the Backup (or Schedule) resource itself, as Velero puts them. */
export interface MetadataFlags {
  readonly labels: ReadonlyArray<string>
  readonly annotations: ReadonlyArray<string>
}

export interface Metadata {
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
}

const metadataError = (flag: string, problem: string) =>
  new CliError({ message: `--${flag}: ${problem}`, hint: `for example: --${flag} team=shop,tier=web` })

/** The flags' labels and annotations, with the keys (and label values) the API server would refuse refused now. */
export const metadataFromFlags = (flags: MetadataFlags): Either.Either<Metadata, CliError> =>
  Either.gen(function*() {
    const labels = yield* parseMap("labels", flags.labels, "team=shop,tier=web")
    const annotations = yield* parseMap("annotations", flags.annotations, "owner=alice,ticket=OPS-12")
    for (const [key, value] of Object.entries(labels)) {
      const problem = labelKeyProblem(key) ?? labelValueProblem(value)
      if (problem !== undefined) return yield* Either.left(metadataError("labels", problem))
    }
    for (const key of Object.keys(annotations)) {
      const problem = labelKeyProblem(key)
      if (problem !== undefined) {
        return yield* Either.left(metadataError("annotations", problem.replace("label key", "annotation key")))
      }
    }
    return { labels, annotations }
  })

/** The Backup with these labels and annotations added to its own (Ark's markers win on a clash). */
export const withMetadata = (backup: Backup, metadata: Metadata): Backup => {
  const labels = { ...metadata.labels, ...backup.metadata.labels }
  const annotations = { ...metadata.annotations, ...backup.metadata.annotations }
  return {
    ...backup,
    metadata: {
      ...backup.metadata,
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {})
    }
  }
}
