// What the restore never creates (docs/design.md, "Restore semantics"): kinds that are not state,
// objects a controller recreates, objects that have run their course.
import type { KubeObject } from "../../services/KubeClient.ts"
import { isRecord } from "../kube/json.ts"
import { mirrorPodAnnotation } from "./transforms.ts"

/** Never restored, whatever the filters say (Velero's non-restorable resources, Ark's own requests). */
export const neverRestored: ReadonlySet<string> = new Set([
  "nodes",
  "events",
  "events.events.k8s.io",
  "csinodes.storage.k8s.io",
  "volumeattachments.storage.k8s.io",
  "backups.ark.heptio.com",
  "restores.ark.heptio.com",
  "deletebackuprequests.ark.heptio.com",
  "downloadrequests.ark.heptio.com"
])

const statusOf = (object: KubeObject): Record<string, unknown> => (isRecord(object["status"]) ? object["status"] : {})

/** A mirror pod is the API's view of a static pod: the kubelet recreates it from its manifest. */
export const isMirrorPod = (object: KubeObject): boolean =>
  object.metadata.annotations !== undefined && Object.hasOwn(object.metadata.annotations, mirrorPodAnnotation)

export const finishedPodPhase = (object: KubeObject): string | undefined => {
  const phase = statusOf(object)["phase"]
  return phase === "Succeeded" || phase === "Failed" ? phase : undefined
}

/** The condition (Complete or Failed) a finished Job carries with status True. */
export const finishedJobCondition = (object: KubeObject): string | undefined => {
  const conditions = statusOf(object)["conditions"]
  if (!Array.isArray(conditions)) return undefined
  const done = conditions.find((condition: unknown) =>
    isRecord(condition) && (condition["type"] === "Complete" || condition["type"] === "Failed") &&
    condition["status"] === "True"
  )
  return isRecord(done) && typeof done["type"] === "string" ? done["type"] : undefined
}

/** The endpoints controller writes Endpoints for every Service with a selector; the restored Service gets fresh ones. */
const endpointsControllerLabel = "endpoints.kubernetes.io/managed-by"

/** Why a pod is not restored: the kubelet or nobody would run it again. */
export const podSkip = (object: KubeObject): string | undefined => {
  if (isMirrorPod(object)) return "mirror pod, which the kubelet recreates from its static manifest"
  const phase = finishedPodPhase(object)
  return phase === undefined ? undefined : `pod has finished (phase ${phase})`
}

export const endpointsSkip = (object: KubeObject): string | undefined =>
  object.metadata.labels?.[endpointsControllerLabel] === "endpoint-controller"
    ? "endpoints managed by the endpoints controller, which recreates them for the restored Service"
    : undefined

export const jobSkip = (object: KubeObject): string | undefined => {
  const condition = finishedJobCondition(object)
  return condition === undefined ? undefined : `job has finished (${condition})`
}

/**
 * Why an object is skipped on its own account, by group-resource (Ark's default restore actions
 * carry these). Ownership is decided over the whole backup (plan.ts). A reason reads `<why>` or
 * `<why>: <which object or value>`: a restore's status counts skips by `<why>` (outcomes.ts).
 */
export const kindSkips: Readonly<Record<string, (object: KubeObject) => string | undefined>> = {
  pods: podSkip,
  endpoints: endpointsSkip,
  "jobs.batch": jobSkip
}

/** The owner reference with `controller: true`, if any. */
export const controllerOf = (object: KubeObject) =>
  object.metadata.ownerReferences?.find((reference) => reference.controller === true)
