// Which API resource each kind `ark install` writes belongs to, and whether it is namespaced: the
// built-in resources plus Ark's own kinds, so installing needs no discovery (Ark's kinds are not
// served until their CRDs are Established).
import { Option } from "effect"

import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { group, kindList, version } from "../api/index.ts"
import { builtinResources } from "../kube/builtinResources.ts"

export interface KindResource {
  readonly gvr: GroupVersionResource
  readonly namespaced: boolean
}

const known: ReadonlyArray<KindResource & { readonly kind: string }> = [
  ...builtinResources.map((resource) => ({
    kind: resource.kind,
    gvr: { group: resource.group, version: resource.version, resource: resource.resource },
    namespaced: resource.namespaced
  })),
  ...kindList.map((info) => ({ kind: info.kind, gvr: { group, version, resource: info.plural }, namespaced: true }))
]

const apiVersionOf = (gvr: GroupVersionResource) => (gvr.group === "" ? gvr.version : `${gvr.group}/${gvr.version}`)

/** The resource of an object by its apiVersion and kind; None for a kind Ark does not know. */
export const resourceOf = (object: Pick<KubeObject, "apiVersion" | "kind">): Option.Option<KindResource> =>
  Option.fromNullable(
    known.find((entry) => entry.kind === object.kind && apiVersionOf(entry.gvr) === object.apiVersion)
  )

/**
 * kustomize's rule: every kind is namespaced unless known to be cluster-scoped, so an unknown
 * custom resource gets the namespace too.
 */
export const isNamespaced = (object: Pick<KubeObject, "apiVersion" | "kind">): boolean =>
  Option.match(resourceOf(object), { onNone: () => true, onSome: (resource) => resource.namespaced })

/** `Deployment heptio-ark/ark`, `ClusterRole ark-backup`: how install names an object to the user. */
export const describeObject = (object: KubeObject): string =>
  object.metadata.namespace === undefined || object.metadata.namespace === ""
    ? `${object.kind} ${object.metadata.name ?? ""}`
    : `${object.kind} ${object.metadata.namespace}/${object.metadata.name ?? ""}`
