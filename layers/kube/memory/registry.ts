// The resource types the fake API server serves: the built-in table plus what CRDs define.
import { Either } from "effect"

import type { ApiResource, Discovery, GroupVersionResource, KubeObject } from "../../../services/KubeClient.ts"
import { builtinResources } from "../../../src/kube/builtinResources.ts"
import { isRecord } from "../../../src/kube/json.ts"
import { compareVersionPriority, preferredVersion } from "../../../src/kube/versions.ts"

export interface ResourceType {
  readonly group: string
  readonly resource: string
  readonly kind: string
  readonly namespaced: boolean
  readonly verbs: ReadonlyArray<string>
  readonly shortNames: ReadonlyArray<string>
  readonly singularName: string
  /** Served versions → whether that version has the `/status` subresource. */
  readonly versions: ReadonlyMap<string, boolean>
  readonly preferredVersion: string
  /** Extra fields a field selector may use, beyond metadata.name and metadata.namespace. */
  readonly selectableFields: ReadonlyArray<string>
  /** The CRD that defines it; undefined for built-ins. */
  readonly crd?: string
}

export interface Registry {
  readonly types: Map<string, ResourceType>
  /** groupVersion → message, reported in discovery's failedGroups. */
  readonly failedGroups: Map<string, string>
}

export const tableKey = (group: string, resource: string): string => `${group}/${resource}`

const POD_FIELDS = [
  "spec.nodeName",
  "spec.restartPolicy",
  "spec.schedulerName",
  "spec.serviceAccountName",
  "spec.hostNetwork",
  "status.phase",
  "status.podIP",
  "status.nominatedNodeName"
]
const EVENT_FIELDS = [
  "involvedObject.kind",
  "involvedObject.namespace",
  "involvedObject.name",
  "involvedObject.uid",
  "involvedObject.apiVersion",
  "involvedObject.resourceVersion",
  "involvedObject.fieldPath",
  "reason",
  "reportingComponent",
  "source",
  "type"
]
const SELECTABLE_FIELDS: Readonly<Record<string, ReadonlyArray<string>>> = {
  "/pods": POD_FIELDS,
  "/events": EVENT_FIELDS,
  "/secrets": ["type"],
  "/namespaces": ["status.phase"],
  "/nodes": ["spec.unschedulable"],
  "/replicationcontrollers": ["status.replicas"],
  "apps/replicasets": ["status.replicas"],
  "batch/jobs": ["status.successful"]
}

export const makeRegistry = (): Registry => {
  const types = new Map<string, ResourceType>()
  for (const resource of builtinResources) {
    const key = tableKey(resource.group, resource.resource)
    types.set(key, {
      group: resource.group,
      resource: resource.resource,
      kind: resource.kind,
      namespaced: resource.namespaced,
      verbs: resource.verbs,
      shortNames: resource.shortNames,
      singularName: resource.singularName,
      versions: new Map([[resource.version, resource.statusSubresource]]),
      preferredVersion: resource.version,
      selectableFields: SELECTABLE_FIELDS[key] ?? []
    })
  }
  return { types, failedGroups: new Map() }
}

export const BUILTIN_GROUPS: ReadonlySet<string> = new Set(builtinResources.map((resource) => resource.group))

/** The type serving this group/version/resource, or undefined (the server's 404). */
export const resolve = (registry: Registry, gvr: GroupVersionResource): ResourceType | undefined => {
  const type = registry.types.get(tableKey(gvr.group, gvr.resource))
  return type !== undefined && type.versions.has(gvr.version) ? type : undefined
}

export const splitApiVersion = (apiVersion: string): { readonly group: string; readonly version: string } => {
  const slash = apiVersion.indexOf("/")
  return slash < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) }
}

export const apiVersionOf = (group: string, version: string): string => (group === "" ? version : `${group}/${version}`)

/** The resource serving objects of this apiVersion and kind (core `events` before events.k8s.io). */
export const byApiVersionKind = (
  registry: Registry,
  apiVersion: string,
  kind: string
): GroupVersionResource | undefined => {
  const { group, version } = splitApiVersion(apiVersion)
  for (const type of registry.types.values()) {
    if (type.group === group && type.kind === kind && type.versions.has(version)) {
      return { group, version, resource: type.resource }
    }
  }
  return undefined
}

export const discovery = (registry: Registry): Discovery => {
  const resources: Array<ApiResource> = []
  for (const type of registry.types.values()) {
    if (type.versions.size === 0) continue
    resources.push({
      group: type.group,
      version: type.preferredVersion,
      resource: type.resource,
      kind: type.kind,
      namespaced: type.namespaced,
      verbs: type.verbs,
      shortNames: type.shortNames,
      singularName: type.singularName,
      statusSubresource: type.versions.get(type.preferredVersion) ?? false
    })
  }
  return {
    resources,
    failedGroups: [...registry.failedGroups].map(([groupVersion, message]) => ({ groupVersion, message }))
  }
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/

const stringAt = (record: Record<string, unknown>, key: string): string | undefined =>
  typeof record[key] === "string" ? record[key] : undefined

/** The resource type a CRD defines, or the reasons the real server would reject it. */
export const typeFromCrd = (crd: KubeObject): Either.Either<ResourceType, string> => {
  const spec = isRecord(crd["spec"]) ? crd["spec"] : {}
  const names = isRecord(spec["names"]) ? spec["names"] : {}
  const group = stringAt(spec, "group") ?? ""
  const plural = stringAt(names, "plural") ?? ""
  const kind = stringAt(names, "kind") ?? ""
  const problems: Array<string> = []
  if (!DNS_SUBDOMAIN.test(group) || !group.includes(".")) {
    problems.push(`spec.group "${group}" must be a DNS subdomain with at least one dot`)
  }
  if (BUILTIN_GROUPS.has(group)) problems.push(`spec.group "${group}" belongs to the built-in API`)
  if (!DNS_LABEL.test(plural)) problems.push(`spec.names.plural "${plural}" must be a lowercase DNS label`)
  if (kind === "") problems.push("spec.names.kind is required")
  if (crd.metadata.name !== `${plural}.${group}`) {
    problems.push(`metadata.name must be spec.names.plural + "." + spec.group`)
  }
  const scope = stringAt(spec, "scope")
  if (scope !== "Namespaced" && scope !== "Cluster") problems.push(`spec.scope must be Namespaced or Cluster`)
  const versions = new Map<string, boolean>()
  const selectable = new Set<string>()
  const rawVersions = Array.isArray(spec["versions"]) ? spec["versions"].filter(isRecord) : []
  if (rawVersions.length === 0) problems.push("spec.versions must have at least one version")
  if (rawVersions.filter((version) => version["storage"] === true).length !== 1) {
    problems.push("spec.versions must have exactly one storage version")
  }
  for (const version of rawVersions) {
    const name = stringAt(version, "name") ?? ""
    if (version["served"] !== true) continue
    const subresources = isRecord(version["subresources"]) ? version["subresources"] : {}
    versions.set(name, isRecord(subresources["status"]))
    for (
      const field of Array.isArray(version["selectableFields"])
        ? version["selectableFields"].filter(isRecord)
        : []
    ) {
      const path = stringAt(field, "jsonPath")
      if (path !== undefined) selectable.add(path.replace(/^\./, ""))
    }
  }
  const preferred = preferredVersion(versions.keys())
  if (problems.length > 0) return Either.left(problems.join("; "))
  const shortNames = Array.isArray(names["shortNames"]) ? names["shortNames"].filter((n) => typeof n === "string") : []
  return Either.right({
    group,
    resource: plural,
    kind,
    namespaced: scope === "Namespaced",
    verbs: ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
    shortNames,
    singularName: stringAt(names, "singular") ?? kind.toLowerCase(),
    versions: new Map([...versions].sort(([a], [b]) => compareVersionPriority(a, b))),
    // A CRD that serves no version is stored but not discoverable; `versions` is then empty.
    preferredVersion: preferred ?? "",
    selectableFields: [...selectable],
    crd: crd.metadata.name ?? ""
  })
}

export const isCrdResource = (gvr: { readonly group: string; readonly resource: string }): boolean =>
  gvr.group === "apiextensions.k8s.io" && gvr.resource === "customresourcedefinitions"
