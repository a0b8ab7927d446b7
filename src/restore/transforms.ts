// The restore's item actions (docs/design.md, "Restore semantics"), Velero-style: one small pure
// function per rule, applied by group-resource. `transformItem` turns a backed-up object into what
// is created; `comparable` is the same clearing with no mapping and no labels, so a live object and
// a transformed one compare equal exactly when the restore would not change anything.
import type { KubeObject, ObjectMeta } from "../../services/KubeClient.ts"
import type { NameMarkers } from "../api/index.ts"
import { backupNameLabel, nameMarkers, restoreNameLabel, withMarkers } from "../api/index.ts"
import type { JsonRecord } from "../kube/json.ts"
import { isRecord } from "../kube/json.ts"
import type { ResourceModifiers } from "./modifiers/rules.ts"

export interface RestoreContext {
  readonly restoreName: string
  readonly backupName: string
  /** Backed-up namespace → the namespace it is restored into. */
  readonly namespaceMapping: Readonly<Record<string, string>>
  /** Keep every Service nodePort, auto-assigned ones too (the Restore's preserveNodePorts). */
  readonly preserveNodePorts?: boolean
  /** The rules of the Restore's resourceModifier ConfigMap (actions.ts applies them last). */
  readonly resourceModifiers?: ResourceModifiers
}

export type Action = (object: KubeObject, context: RestoreContext) => KubeObject

type MutableMeta = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] }

/** The namespace a backed-up namespace is restored into. */
export const targetNamespace = (context: RestoreContext, namespace: string): string =>
  Object.hasOwn(context.namespaceMapping, namespace) ? context.namespaceMapping[namespace] ?? namespace : namespace

/** Fields the API server owns: a create carrying them is rejected or they are simply stale. */
export const serverManagedMetadata = [
  "uid",
  "resourceVersion",
  "selfLink",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "generation",
  "managedFields"
] as const

export const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"
export const mirrorPodAnnotation = "kubernetes.io/config.mirror"
/** Set by the PV controller while binding; on a new cluster they would claim a binding that never happened. */
export const pvcBindAnnotations = [
  "pv.kubernetes.io/bind-completed",
  "pv.kubernetes.io/bound-by-controller",
  "volume.kubernetes.io/selected-node"
] as const

const withMeta = (object: KubeObject, edit: (metadata: MutableMeta) => void): KubeObject => {
  const metadata: MutableMeta = { ...object.metadata }
  edit(metadata)
  return { ...object, metadata }
}

const withSpec = (object: KubeObject, edit: (spec: JsonRecord) => void): KubeObject => {
  const spec = object["spec"]
  if (!isRecord(spec)) return object
  const copy: JsonRecord = { ...spec }
  edit(copy)
  return { ...object, spec: copy }
}

/** uid, resourceVersion, timestamps, generation, managedFields and status: the server's, not the backup's. */
export const dropServerFields: Action = (object) => {
  const { status: _status, ...rest } = object
  return withMeta(rest as KubeObject, (metadata) => {
    for (const key of serverManagedMetadata) delete metadata[key]
  })
}

/** Owner uids point at the old cluster's objects; a stale owner would get the object garbage-collected. */
export const dropOwnerReferences: Action = (object) =>
  object.metadata.ownerReferences === undefined
    ? object
    : withMeta(object, (metadata) => void delete metadata.ownerReferences)

export const mapObjectNamespace: Action = (object, context) => {
  const namespace = object.metadata.namespace
  if (namespace === undefined || namespace === "") return object
  const target = targetNamespace(context, namespace)
  return target === namespace ? object : withMeta(object, (metadata) => void (metadata.namespace = target))
}

/** The restore-name and backup-name labels, and the full names as annotations when they do not fit a label. */
export const restoreMarkers = (context: RestoreContext): NameMarkers =>
  nameMarkers({ [restoreNameLabel]: context.restoreName, [backupNameLabel]: context.backupName })

export const addRestoreLabels: Action = (object, context) => ({
  ...object,
  metadata: withMarkers(object.metadata, restoreMarkers(context))
})

const arkKeys = [restoreNameLabel, backupNameLabel] as const

const without = (record: Readonly<Record<string, string>> | undefined) => {
  if (record === undefined || !arkKeys.some((key) => Object.hasOwn(record, key))) return record
  const rest = { ...record }
  for (const key of arkKeys) delete rest[key]
  return rest
}

/** Without Ark's restore labels and the annotations that go with long names. */
export const removeRestoreLabels = (object: KubeObject): KubeObject => {
  const labels = without(object.metadata.labels)
  const annotations = without(object.metadata.annotations)
  if (labels === object.metadata.labels && annotations === object.metadata.annotations) return object
  return withMeta(object, (metadata) => {
    if (labels !== undefined) metadata.labels = labels
    if (annotations !== undefined) metadata.annotations = annotations
  })
}

/** NodePorts a user wrote down (per kubectl's last-applied configuration): named ports by name, unnamed by number. */
const explicitNodePorts = (object: KubeObject) => {
  const named = new Set<string>()
  const unnamed = new Set<number>()
  let healthCheck = false
  const applied = object.metadata.annotations?.[lastAppliedAnnotation]
  if (applied === undefined) return { named, unnamed, healthCheck }
  let parsed: unknown
  try {
    parsed = JSON.parse(applied)
  } catch {
    return { named, unnamed, healthCheck }
  }
  const spec = isRecord(parsed) && isRecord(parsed["spec"]) ? parsed["spec"] : {}
  for (const port of Array.isArray(spec["ports"]) ? spec["ports"].filter(isRecord) : []) {
    const nodePort = port["nodePort"]
    if (typeof nodePort !== "number" || nodePort <= 0) continue
    if (typeof port["name"] === "string" && port["name"] !== "") named.add(port["name"])
    else unnamed.add(nodePort)
  }
  healthCheck = typeof spec["healthCheckNodePort"] === "number" && spec["healthCheckNodePort"] > 0
  return { named, unnamed, healthCheck }
}

/**
 * ClusterIPs are allocated per cluster (headless `None` is a choice, kept); auto-assigned nodePorts
 * too, unless the restore preserves nodePorts (then every one is kept, as Velero's preserveNodePorts).
 */
export const serviceAction: Action = (object, context) =>
  withSpec(object, (spec) => {
    if (spec["clusterIP"] !== "None") {
      delete spec["clusterIP"]
      delete spec["clusterIPs"]
    }
    if (spec["type"] === "ExternalName" || context.preserveNodePorts === true) return
    const explicit = explicitNodePorts(object)
    if (Array.isArray(spec["ports"])) {
      spec["ports"] = spec["ports"].map((port: unknown) => {
        if (!isRecord(port) || port["nodePort"] === undefined) return port
        const name = typeof port["name"] === "string" ? port["name"] : ""
        const keep = name !== "" ? explicit.named.has(name) : explicit.unnamed.has(Number(port["nodePort"]))
        if (keep) return port
        const { nodePort: _nodePort, ...rest } = port
        return rest
      })
    }
    if (!explicit.healthCheck) delete spec["healthCheckNodePort"]
  })

/** The scheduler places the pod again: the old node may not exist. */
export const podAction: Action = (object) => withSpec(object, (spec) => void delete spec["nodeName"])

/** Bind annotations go; spec.volumeName stays so the claim binds to its restored PV. */
export const persistentVolumeClaimAction: Action = (object) => {
  const annotations = object.metadata.annotations
  if (annotations === undefined || !pvcBindAnnotations.some((key) => Object.hasOwn(annotations, key))) return object
  return withMeta(object, (metadata) => {
    const rest = { ...annotations }
    for (const key of pvcBindAnnotations) delete rest[key]
    if (Object.keys(rest).length === 0) delete metadata.annotations
    else metadata.annotations = rest
  })
}

/** The claim it is bound to moves with the namespace mapping; the claim's old uid is stale. */
export const persistentVolumeAction: Action = (object, context) =>
  withSpec(object, (spec) => {
    const claimRef = spec["claimRef"]
    if (!isRecord(claimRef)) return
    const next: JsonRecord = { ...claimRef }
    delete next["uid"]
    delete next["resourceVersion"]
    if (typeof next["namespace"] === "string") next["namespace"] = targetNamespace(context, next["namespace"])
    spec["claimRef"] = next
  })

/** ServiceAccount subjects follow their namespace; users and groups are not namespaced. */
export const bindingSubjectsAction: Action = (object, context) => {
  const subjects = object["subjects"]
  if (!Array.isArray(subjects)) return object
  return {
    ...object,
    subjects: subjects.map((subject: unknown) =>
      isRecord(subject) && subject["kind"] === "ServiceAccount" && typeof subject["namespace"] === "string"
        ? { ...subject, namespace: targetNamespace(context, subject["namespace"]) }
        : subject
    )
  }
}

/** `<sa>-token-xxxxx` secrets are generated by the token controller for the old account. */
export const serviceAccountAction: Action = (object) => {
  const secrets = object["secrets"]
  if (!Array.isArray(secrets)) return object
  const prefix = `${object.metadata.name ?? ""}-token-`
  const kept = secrets.filter((secret: unknown) =>
    !(isRecord(secret) && typeof secret["name"] === "string" && secret["name"].startsWith(prefix))
  )
  if (kept.length === secrets.length) return object
  const { secrets: _secrets, ...rest } = object
  return kept.length === 0 ? rest as KubeObject : { ...rest, secrets: kept } as KubeObject
}

export const serviceAccountTokenType = "kubernetes.io/service-account-token"
export const serviceAccountUidAnnotation = "kubernetes.io/service-account.uid"
/** What the token controller writes into a ServiceAccount token Secret. */
export const serviceAccountTokenKeys = ["token", "ca.crt", "namespace"] as const

/**
 * A ServiceAccount token Secret names the old account's uid, which the token controller takes for
 * a deleted account (it deletes the Secret); without it, and without the old token, the controller
 * fills the Secret in for the restored account.
 */
export const serviceAccountTokenAction: Action = (object) => {
  if (object["type"] !== serviceAccountTokenType) return object
  const data = isRecord(object["data"]) ? { ...object["data"] } : undefined
  for (const key of serviceAccountTokenKeys) if (data !== undefined) delete data[key]
  const { data: _data, ...rest } = object
  const withoutToken = (data === undefined || Object.keys(data).length === 0 ? rest : { ...rest, data }) as KubeObject
  const annotations = object.metadata.annotations
  if (annotations === undefined || !Object.hasOwn(annotations, serviceAccountUidAnnotation)) return withoutToken
  return withMeta(withoutToken, (metadata) => {
    const kept = { ...annotations }
    delete kept[serviceAccountUidAnnotation]
    metadata.annotations = kept
  })
}

/** The labels the Job controller puts on a Job's pod template, naming the old Job's uid. */
export const jobControllerUidLabels = ["controller-uid", "batch.kubernetes.io/controller-uid"] as const

/**
 * A Job's generated selector and its pod template's controller-uid labels name the old Job's uid:
 * the API server rejects them ("selector not auto-generated") and generates new ones. A selector
 * the user chose (`manualSelector: true`) is theirs, kept.
 */
export const jobAction: Action = (object) =>
  withSpec(object, (spec) => {
    if (spec["manualSelector"] === true) return
    delete spec["selector"]
    const template = spec["template"]
    if (!isRecord(template) || !isRecord(template["metadata"]) || !isRecord(template["metadata"]["labels"])) return
    const labels: JsonRecord = { ...template["metadata"]["labels"] }
    for (const key of jobControllerUidLabels) delete labels[key]
    spec["template"] = { ...template, metadata: { ...template["metadata"], labels } }
  })

const namespaceNameLabel = "kubernetes.io/metadata.name"

/** A Namespace is restored under its mapped name; the server keeps its name label equal to the name. */
export const namespaceAction: Action = (object, context) => {
  const name = object.metadata.name ?? ""
  const target = targetNamespace(context, name)
  return withMeta(object, (metadata) => {
    metadata.name = target
    if (metadata.labels !== undefined && Object.hasOwn(metadata.labels, namespaceNameLabel)) {
      metadata.labels = { ...metadata.labels, [namespaceNameLabel]: target }
    }
  })
}

/** Per-kind actions, by group-resource. */
export const kindActions: Readonly<Record<string, ReadonlyArray<Action>>> = {
  services: [serviceAction],
  pods: [podAction],
  persistentvolumeclaims: [persistentVolumeClaimAction],
  persistentvolumes: [persistentVolumeAction],
  serviceaccounts: [serviceAccountAction],
  namespaces: [namespaceAction],
  "jobs.batch": [jobAction],
  secrets: [serviceAccountTokenAction],
  "rolebindings.rbac.authorization.k8s.io": [bindingSubjectsAction],
  "clusterrolebindings.rbac.authorization.k8s.io": [bindingSubjectsAction]
}

const applyAll = (actions: ReadonlyArray<Action>, object: KubeObject, context: RestoreContext): KubeObject =>
  actions.reduce((current, action) => action(current, context), object)

/** The object as the restore creates it. */
export const transformItem = (groupResource: string, object: KubeObject, context: RestoreContext): KubeObject =>
  applyAll(
    [
      dropServerFields,
      dropOwnerReferences,
      ...(kindActions[groupResource] ?? []),
      mapObjectNamespace,
      addRestoreLabels
    ],
    object,
    context
  )

const identity: RestoreContext = { restoreName: "", backupName: "", namespaceMapping: {} }

/**
 * What two objects must agree on for a restore to leave the live one alone: everything but
 * server-managed fields, status, owner references, what the actions clear, the apiVersion
 * (served versions of one object) and Ark's labels (they name the restore that made it).
 */
export const comparable = (
  groupResource: string,
  object: KubeObject,
  options: Pick<RestoreContext, "preserveNodePorts"> = {}
): KubeObject => {
  const cleared = removeRestoreLabels(
    applyAll([dropServerFields, dropOwnerReferences, ...(kindActions[groupResource] ?? [])], object, {
      ...identity,
      ...options
    })
  )
  const { apiVersion: _apiVersion, ...rest } = cleared
  return withMeta(rest as KubeObject, (metadata) => {
    if (metadata.labels !== undefined && Object.keys(metadata.labels).length === 0) delete metadata.labels
    if (metadata.annotations !== undefined && Object.keys(metadata.annotations).length === 0) {
      delete metadata.annotations
    }
  })
}
