// Which objects a backup takes (docs/design.md, "Resource selection"): namespace, label and
// cluster-scope filters, and the cluster-scoped objects that included items pull in. Pure
// functions over objects.
import { Either } from "effect"

import type { ApiResource, KubeObject } from "../../services/KubeClient.ts"
import type { BackupSpec } from "../api/backup.ts"
import { groupResource } from "../archive/layout.ts"
import { isRecord } from "../kube/json.ts"
import type { Selector } from "../kube/labelSelector.ts"
import { fromLabelSelector, matchesLabels, selectorToString } from "../kube/labelSelector.ts"
import { isWildcard } from "./resources.ts"

/** `all`: every cluster-scoped object; `related`: only PVs of included PVCs and CRDs of included objects; `none`. */
export type ClusterScope = "all" | "related" | "none"

export interface Filters {
  /** Undefined: every namespace. */
  readonly includedNamespaces: ReadonlySet<string> | undefined
  readonly excludedNamespaces: ReadonlySet<string>
  /** An object matches when any selector does; empty matches everything. */
  readonly selectors: ReadonlyArray<Selector>
  readonly clusterScope: ClusterScope
}

type FilterSpec = Pick<
  BackupSpec,
  "includedNamespaces" | "excludedNamespaces" | "labelSelector" | "orLabelSelectors" | "includeClusterResources"
>

export const includesAllNamespaces = (spec: FilterSpec): boolean =>
  isWildcard(spec.includedNamespaces) && (spec.excludedNamespaces ?? []).length === 0

export const clusterScopeOf = (spec: FilterSpec): ClusterScope =>
  spec.includeClusterResources === true
    ? "all"
    : spec.includeClusterResources === false
    ? "none"
    : includesAllNamespaces(spec)
    ? "all"
    : "related"

/** The spec's filters, or one message per bad selector. */
export const makeFilters = (spec: FilterSpec): Either.Either<Filters, ReadonlyArray<string>> => {
  const problems: Array<string> = []
  const selectors: Array<Selector> = []
  const add = (field: string, selector: BackupSpec["labelSelector"]) => {
    if (selector === undefined) return
    Either.match(fromLabelSelector(selector), {
      onLeft: (error) => void problems.push(`${field}: ${error.message}`),
      onRight: (parsed) => void selectors.push(parsed)
    })
  }
  add("labelSelector", spec.labelSelector)
  spec.orLabelSelectors?.forEach((selector, index) => add(`orLabelSelectors[${index}]`, selector))
  if (problems.length > 0) return Either.left(problems)
  return Either.right({
    includedNamespaces: isWildcard(spec.includedNamespaces) ? undefined : new Set(spec.includedNamespaces),
    excludedNamespaces: new Set(spec.excludedNamespaces ?? []),
    selectors,
    clusterScope: clusterScopeOf(spec)
  })
}

export const namespaceIncluded = (filters: Filters, namespace: string): boolean =>
  !filters.excludedNamespaces.has(namespace) &&
  (filters.includedNamespaces === undefined || filters.includedNamespaces.has(namespace))

export const labelsMatch = (filters: Filters, object: KubeObject): boolean =>
  filters.selectors.length === 0 ||
  filters.selectors.some((selector) => matchesLabels(selector, object.metadata.labels))

/** What the items included so far pull in; filled while the namespaced resources are read. */
export interface Related {
  /** PVs bound to included PVCs. */
  readonly persistentVolumes: Set<string>
  /** Group-resources with an included object: their CRD (named the same) comes along. */
  readonly groupResources: Set<string>
  /** Namespaces holding an included object: their Namespace comes along under a label selector. */
  readonly namespaces: Set<string>
}

export const makeRelated = (): Related => ({
  persistentVolumes: new Set(),
  groupResources: new Set(),
  namespaces: new Set()
})

const isCore = (resource: ApiResource, name: string) => resource.group === "" && resource.resource === name

const isCrds = (resource: ApiResource) =>
  resource.group === "apiextensions.k8s.io" && resource.resource === "customresourcedefinitions"

export const recordIncluded = (related: Related, resource: ApiResource, object: KubeObject): void => {
  related.groupResources.add(groupResource(resource))
  const namespace = object.metadata.namespace
  if (resource.namespaced && namespace !== undefined) related.namespaces.add(namespace)
  if (isCore(resource, "persistentvolumeclaims")) {
    const spec = object["spec"]
    const volumeName = isRecord(spec) ? spec["volumeName"] : undefined
    if (typeof volumeName === "string" && volumeName !== "") related.persistentVolumes.add(volumeName)
  }
}

/**
 * Whether an object of a selected resource goes into the backup. Namespace objects follow the
 * namespace filter (whatever includeClusterResources says, as in Velero), and under a label
 * selector also come along when they hold an included object; that is why they are read last.
 */
export const includeObject = (
  filters: Filters,
  related: Related,
  resource: ApiResource,
  object: KubeObject
): boolean => {
  const name = object.metadata.name ?? ""
  if (resource.namespaced) {
    return namespaceIncluded(filters, object.metadata.namespace ?? "") && labelsMatch(filters, object)
  }
  if (isCore(resource, "namespaces")) {
    return namespaceIncluded(filters, name) && (labelsMatch(filters, object) || related.namespaces.has(name))
  }
  switch (filters.clusterScope) {
    case "none":
      return false
    case "all":
      if (labelsMatch(filters, object)) return true
      break
    case "related":
      break
  }
  if (isCore(resource, "persistentvolumes")) return related.persistentVolumes.has(name)
  if (isCrds(resource)) return related.groupResources.has(name)
  return false
}

/** Rank in the read order: what pulls things in is read before what is pulled in. */
const readRank = (resource: ApiResource): number =>
  resource.namespaced
    ? 0
    : isCore(resource, "persistentvolumes")
    ? 2
    : isCore(resource, "namespaces")
    ? 3
    : isCrds(resource)
    ? 4
    : 1

export interface ListTarget {
  readonly resource: ApiResource
  /** One namespace when the spec names them; undefined to list across all namespaces (or cluster-scoped). */
  readonly namespace?: string
  /** Filters on the server when there is exactly one selector; objects are still checked here. */
  readonly labelSelector?: string
}

/**
 * The lists one backup reads, in order: namespaced resources (per named namespace, or across all),
 * other cluster-scoped resources, then PVs, Namespaces and CRDs. Cluster-scoped resources that
 * cannot contribute under the cluster scope are not read at all.
 */
export const listTargets = (filters: Filters, resources: ReadonlyArray<ApiResource>): ReadonlyArray<ListTarget> => {
  const [selector] = filters.selectors
  const serverSelector = filters.selectors.length === 1 && selector !== undefined && selector.length > 0
    ? { labelSelector: selectorToString(selector) }
    : {}
  const readable = resources.filter((resource) =>
    resource.namespaced || isCore(resource, "namespaces") || filters.clusterScope === "all" ||
    (filters.clusterScope === "related" && (isCore(resource, "persistentvolumes") || isCrds(resource)))
  )
  const ordered = readable
    .map((resource, index) => ({ resource, index }))
    .sort((a, b) => readRank(a.resource) - readRank(b.resource) || a.index - b.index)
    .map(({ resource }) => resource)
  const namespaces = filters.includedNamespaces === undefined
    ? undefined
    : [...filters.includedNamespaces].filter((namespace) => !filters.excludedNamespaces.has(namespace)).sort()
  return ordered.flatMap((resource): ReadonlyArray<ListTarget> => {
    if (!resource.namespaced) return [{ resource }]
    if (namespaces === undefined) return [{ resource, ...serverSelector }]
    return namespaces.map((namespace) => ({ resource, namespace, ...serverSelector }))
  })
}
