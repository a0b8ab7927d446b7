// What a backup's volume step needs of the items it wrote, gathered as they stream by: PVs
// (whole, they are few and small), each included PVC's bound PV, and the pods that use claims or
// have hooks (a few strings each). Nothing else is kept, so memory stays bounded by those.
import type { ApiResource, KubeObject } from "../../services/KubeClient.ts"
import { isRecord } from "../kube/json.ts"

export interface PodVolumes {
  readonly namespace: string
  readonly name: string
  /** The pod, reduced to metadata and spec.containers/volumes: what hooks and claims need. */
  readonly pod: KubeObject
  /** Names of the PVCs its volumes use. */
  readonly claims: ReadonlyArray<string>
}

export interface VolumeInventory {
  readonly persistentVolumes: Map<string, KubeObject>
  /** `namespace/claim` → the PV it is bound to. */
  readonly claims: Map<string, string>
  readonly pods: Array<PodVolumes>
}

export const makeInventory = (): VolumeInventory => ({ persistentVolumes: new Map(), claims: new Map(), pods: [] })

const isCore = (resource: ApiResource, name: string) => resource.group === "" && resource.resource === name

/** Names of the PVCs a pod's volumes use. */
export const podClaims = (pod: KubeObject): ReadonlyArray<string> => {
  const spec = pod["spec"]
  const volumes = isRecord(spec) && Array.isArray(spec["volumes"]) ? spec["volumes"] : []
  return volumes.flatMap((volume: unknown) => {
    const claim = isRecord(volume) && isRecord(volume["persistentVolumeClaim"])
      ? volume["persistentVolumeClaim"]["claimName"]
      : undefined
    return typeof claim === "string" && claim !== "" ? [claim] : []
  })
}

const reducedPod = (pod: KubeObject): KubeObject => {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {}
  const { labels, annotations } = pod.metadata
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata: {
      name: pod.metadata.name ?? "",
      namespace: pod.metadata.namespace ?? "",
      ...(labels === undefined ? {} : { labels }),
      ...(annotations === undefined ? {} : { annotations })
    },
    spec: { containers: spec["containers"] ?? [], volumes: spec["volumes"] ?? [] }
  }
}

/**
 * Records an item written to the tarball. `hasHooks` says whether a pod has hooks (spec or
 * annotations); pods with neither hooks nor claims are not kept.
 */
export const recordItem = (
  inventory: VolumeInventory,
  resource: ApiResource,
  object: KubeObject,
  hasHooks: (pod: KubeObject) => boolean
): void => {
  const name = object.metadata.name ?? ""
  if (isCore(resource, "persistentvolumes")) {
    inventory.persistentVolumes.set(name, object)
  } else if (isCore(resource, "persistentvolumeclaims")) {
    const spec = object["spec"]
    const volumeName = isRecord(spec) ? spec["volumeName"] : undefined
    if (typeof volumeName === "string" && volumeName !== "") {
      inventory.claims.set(`${object.metadata.namespace ?? ""}/${name}`, volumeName)
    }
  } else if (isCore(resource, "pods")) {
    const claims = podClaims(object)
    if (claims.length > 0 || hasHooks(object)) {
      inventory.pods.push({ namespace: object.metadata.namespace ?? "", name, pod: reducedPod(object), claims })
    }
  }
}
