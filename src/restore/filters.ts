// A Restore's filters over a backup's contents, built from the backup side's filter logic so a
// restore filter and a backup filter mean the same thing (the "filters commute" law).
import { Either } from "effect"

import type { ApiResource } from "../../services/KubeClient.ts"
import type { RestoreSpec } from "../api/restore.ts"
import { groupResource } from "../archive/layout.ts"
import { isWildcard, resolveResource } from "../backup/resources.ts"
import type { Filters } from "../backup/select.ts"
import { makeFilters } from "../backup/select.ts"

export interface ResourceFilter {
  /** Undefined: every resource. */
  readonly includes: ReadonlySet<string> | undefined
  readonly excludes: ReadonlySet<string>
  readonly unknown: ReadonlyArray<{ readonly field: "includedResources" | "excludedResources"; readonly name: string }>
}

export interface RestoreSelection {
  readonly filters: Filters
  readonly resources: ResourceFilter
}

/**
 * A resource name as a group-resource: resolved against the cluster's discovery, or taken as
 * written when it is already `<plural>.<group>` — a custom resource whose CRD is in the backup
 * is not discovered until the restore creates it.
 */
const resolveName = (name: string, discovered: ReadonlyArray<ApiResource>): string | undefined => {
  const resource = resolveResource(name, discovered)
  if (resource !== undefined) return groupResource(resource)
  return /^[a-z0-9-]+\.[a-z0-9.-]+$/.test(name) ? name : undefined
}

export const resourceFilter = (
  included: ReadonlyArray<string> | undefined,
  excluded: ReadonlyArray<string> | undefined,
  discovered: ReadonlyArray<ApiResource>
): ResourceFilter => {
  const unknown: Array<ResourceFilter["unknown"][number]> = []
  const resolveAll = (field: "includedResources" | "excludedResources", names: ReadonlyArray<string>) => {
    const keys = new Set<string>()
    for (const name of names) {
      if (name === "*") continue
      const key = resolveName(name, discovered)
      if (key === undefined) unknown.push({ field, name })
      else keys.add(key)
    }
    return keys
  }
  return {
    includes: isWildcard(included) ? undefined : resolveAll("includedResources", included ?? []),
    excludes: resolveAll("excludedResources", excluded ?? []),
    unknown
  }
}

export const resourceIncluded = (filter: ResourceFilter, groupResourceName: string): boolean =>
  !filter.excludes.has(groupResourceName) && (filter.includes === undefined || filter.includes.has(groupResourceName))

/** The restore's filters, or one message per bad label selector. */
export const makeRestoreSelection = (
  spec: RestoreSpec,
  discovered: ReadonlyArray<ApiResource>
): Either.Either<RestoreSelection, ReadonlyArray<string>> =>
  Either.map(
    makeFilters({
      includedNamespaces: spec.includedNamespaces ?? ["*"],
      ...(spec.excludedNamespaces === undefined ? {} : { excludedNamespaces: spec.excludedNamespaces }),
      ...(spec.labelSelector === undefined ? {} : { labelSelector: spec.labelSelector }),
      ...(spec.orLabelSelectors === undefined ? {} : { orLabelSelectors: spec.orLabelSelectors }),
      ...(spec.includeClusterResources === undefined ? {} : { includeClusterResources: spec.includeClusterResources })
    }),
    (filters) => ({ filters, resources: resourceFilter(spec.includedResources, spec.excludedResources, discovered) })
  )
