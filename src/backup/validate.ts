// Every problem with a Backup spec at once, for status.validationErrors.
import { Either, Option } from "effect"

import type { ApiResource } from "../../services/KubeClient.ts"
import type { BackupSpec } from "../api/backup.ts"
import { parseGoDuration } from "../api/duration.ts"
import { resolveOrders } from "./order.ts"
import { selectResources } from "./resources.ts"
import { makeFilters } from "./select.ts"

export interface ValidationContext {
  /** Discovery's resources, to resolve resource names. */
  readonly resources: ReadonlyArray<ApiResource>
  /** The BackupStorageLocations that exist; the caller lists them. */
  readonly storageLocations: ReadonlyArray<string>
}

/** Velero's rules for an include/exclude pair: `*` alone, never excluded, nothing both ways. */
const includesExcludesProblems = (
  what: string,
  included: ReadonlyArray<string> | undefined,
  excluded: ReadonlyArray<string> | undefined
): Array<string> => {
  const problems: Array<string> = []
  const includes = included ?? []
  const excludes = excluded ?? []
  if (includes.includes("*") && includes.length > 1) problems.push(`included${what}: "*" must be the only entry`)
  if (excludes.includes("*")) problems.push(`excluded${what}: cannot contain "*"`)
  for (const name of excludes) {
    if (name !== "*" && includes.includes(name)) {
      problems.push(`${name} is both included and excluded in ${what.toLowerCase()}`)
    }
  }
  return problems
}

export const validateBackupSpec = (spec: BackupSpec, context: ValidationContext): ReadonlyArray<string> => {
  const problems: Array<string> = [
    ...includesExcludesProblems("Namespaces", spec.includedNamespaces, spec.excludedNamespaces),
    ...includesExcludesProblems("Resources", spec.includedResources, spec.excludedResources)
  ]
  for (
    const { field, name } of selectResources(spec.includedResources, spec.excludedResources, context.resources).unknown
  ) {
    problems.push(`${field}: unknown resource "${name}"`)
  }
  problems.push(...resolveOrders(spec.orderedResources, context.resources).problems)
  if (spec.labelSelector !== undefined && (spec.orLabelSelectors ?? []).length > 0) {
    problems.push("labelSelector and orLabelSelectors are mutually exclusive: set only one")
  }
  Either.match(makeFilters(spec), {
    onLeft: (selectorProblems) => problems.push(...selectorProblems),
    onRight: () => undefined
  })
  if (Option.isNone(parseGoDuration(spec.ttl))) {
    problems.push(`ttl: invalid duration "${spec.ttl}": expected a Go duration such as 72h, 30m or 1h30m`)
  }
  if (!context.storageLocations.includes(spec.storageLocation)) {
    problems.push(`storageLocation: backup storage location "${spec.storageLocation}" does not exist`)
  }
  return problems
}
