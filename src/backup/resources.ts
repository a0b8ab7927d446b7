// Resource names in a Backup spec (`pods`, `deploy`, `deployments.apps`, `Widget`) resolved
// against discovery, and the resources a backup lists.
import type { ApiResource } from "../../services/KubeClient.ts"
import { groupResource } from "../archive/layout.ts"

/** Never backed up, whatever the filters say: events churn, and Ark's own requests are not state. */
export const neverBackedUp: ReadonlySet<string> = new Set([
  // Live health probes, not stored objects: no revision to read them at, nothing to restore.
  "componentstatuses",
  "events",
  "events.events.k8s.io",
  "backups.ark.heptio.com",
  "restores.ark.heptio.com",
  "deletebackuprequests.ark.heptio.com",
  "downloadrequests.ark.heptio.com"
])

const namesOf = (resource: ApiResource): ReadonlyArray<string> => [
  resource.resource,
  resource.singularName,
  resource.kind.toLowerCase(),
  ...resource.shortNames
]

/**
 * The resource a spec entry names: the plural, singular, a short name or the kind (any case),
 * optionally followed by `.<group>`. Without a group, the core group wins, then discovery order,
 * as kubectl resolves `events` to the core resource.
 */
export const resolveResource = (name: string, resources: ReadonlyArray<ApiResource>): ApiResource | undefined => {
  const wanted = name.toLowerCase()
  const dot = wanted.indexOf(".")
  if (dot > 0) {
    const short = wanted.slice(0, dot)
    const group = wanted.slice(dot + 1)
    const grouped = resources.find((resource) => resource.group === group && namesOf(resource).includes(short))
    if (grouped !== undefined) return grouped
  }
  const matches = resources.filter((resource) => namesOf(resource).includes(wanted))
  return matches.find((resource) => resource.group === "") ?? matches[0]
}

export const isWildcard = (names: ReadonlyArray<string> | undefined): boolean =>
  names === undefined || names.length === 0 || names.includes("*")

export interface ResourceSelection {
  /** What the backup lists, in discovery order. */
  readonly resources: ReadonlyArray<ApiResource>
  /** Spec entries that name no resource (validation errors). */
  readonly unknown: ReadonlyArray<{ readonly field: "includedResources" | "excludedResources"; readonly name: string }>
}

/** Discovery entries a backup can read at all: listable, and not subresources such as `pods/log`. */
const listable = (resource: ApiResource): boolean => resource.verbs.includes("list") && !resource.resource.includes("/")

/** Applies includedResources / excludedResources (`*` or empty = all) and the never-backed-up set. */
export const selectResources = (
  included: ReadonlyArray<string> | undefined,
  excluded: ReadonlyArray<string> | undefined,
  discovered: ReadonlyArray<ApiResource>
): ResourceSelection => {
  const unknown: Array<ResourceSelection["unknown"][number]> = []
  const resolveAll = (field: "includedResources" | "excludedResources", names: ReadonlyArray<string>) => {
    const keys = new Set<string>()
    for (const name of names) {
      if (name === "*") continue
      const resource = resolveResource(name, discovered)
      if (resource === undefined) unknown.push({ field, name })
      else keys.add(groupResource(resource))
    }
    return keys
  }
  const includes = isWildcard(included) ? undefined : resolveAll("includedResources", included ?? [])
  const excludes = resolveAll("excludedResources", excluded ?? [])
  const resources = discovered.filter((resource) => {
    const key = groupResource(resource)
    return listable(resource) && !neverBackedUp.has(key) && !excludes.has(key) &&
      (includes === undefined || includes.has(key))
  })
  return { resources, unknown }
}
