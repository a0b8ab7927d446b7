// A strategic merge patch (kubectl patch --type strategic) for the lists Kubernetes' own types
// merge by key, without the API types' Go struct tags: the patch keys of the common lists are
// written down below. What it covers (README, "Changing objects on restore"):
// - maps merge recursively and `null` removes a key, as in a JSON merge patch;
// - lists merged by key: containers, initContainers and ephemeralContainers by name, their env by
//   name, ports by containerPort, volumeMounts by mountPath, volumeDevices by devicePath; a pod's
//   volumes, imagePullSecrets by name and hostAliases by ip; a Service's ports by port; a
//   ServiceAccount's secrets by name; metadata.ownerReferences by uid; metadata.finalizers as a set;
//   wherever a pod spec sits (Pod, PodTemplate, the workloads' spec.template, CronJob's jobTemplate);
// - directives: `$patch: replace|delete` on a map or a keyed list element, `{"$patch": "replace"}`
//   in a list, `$retainKeys`, `$deleteFromPrimitiveList/<field>`; `$setElementOrder/<field>` is
//   accepted and ignored (merged elements keep their place, new ones are appended);
// - every other list is replaced whole, as Kubernetes does for lists without a patch strategy.
// Objects outside Kubernetes' own API groups (custom resources) get a plain JSON merge patch.
import { Either } from "effect"

import type { JsonRecord } from "./json.ts"
import { deepClone, deepEqual, isRecord } from "./json.ts"
import { applyMergePatch } from "./patch.ts"

interface FieldMeta {
  /** A list merged element by element, matched on this key. */
  readonly mergeKey?: string
  /** A list of scalars merged as a set. */
  readonly set?: true
  /** The fields of the map, or of each element of the list. */
  readonly fields?: Fields
}
type Fields = Readonly<Record<string, FieldMeta>>

const container: Fields = {
  env: { mergeKey: "name" },
  ports: { mergeKey: "containerPort" },
  volumeMounts: { mergeKey: "mountPath" },
  volumeDevices: { mergeKey: "devicePath" }
}
const podSpec: Fields = {
  containers: { mergeKey: "name", fields: container },
  initContainers: { mergeKey: "name", fields: container },
  ephemeralContainers: { mergeKey: "name", fields: container },
  volumes: { mergeKey: "name" },
  imagePullSecrets: { mergeKey: "name" },
  hostAliases: { mergeKey: "ip" }
}
const metadata: FieldMeta = { fields: { finalizers: { set: true }, ownerReferences: { mergeKey: "uid" } } }
const podTemplate: FieldMeta = { fields: { metadata, spec: { fields: podSpec } } }
const templated: Fields = { metadata, spec: { fields: { template: podTemplate } } }

/** By kind: where the keyed lists are. A built-in kind not listed here still has its metadata's. */
const kinds: Readonly<Record<string, Fields>> = {
  Pod: { metadata, spec: { fields: podSpec } },
  PodTemplate: { metadata, template: podTemplate },
  ReplicationController: templated,
  Deployment: templated,
  StatefulSet: templated,
  DaemonSet: templated,
  ReplicaSet: templated,
  Job: templated,
  CronJob: { metadata, spec: { fields: { jobTemplate: { fields: templated } } } },
  Service: { metadata, spec: { fields: { ports: { mergeKey: "port" } } } },
  ServiceAccount: { metadata, secrets: { mergeKey: "name" } }
}

const kubernetesGroups: ReadonlySet<string> = new Set(["", "apps", "batch", "autoscaling", "policy"])

/** Kubernetes' own API groups: the core group, apps, batch, autoscaling, policy and `*.k8s.io`. */
export const isBuiltinGroup = (apiVersion: string): boolean => {
  const slash = apiVersion.indexOf("/")
  const group = slash < 0 ? "" : apiVersion.slice(0, slash)
  return kubernetesGroups.has(group) || group.endsWith(".k8s.io")
}

class PatchProblem extends Error {}

const DELETE = Symbol("delete")

const withoutDirectives = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(withoutDirectives)
  if (!isRecord(value)) return value
  const result: JsonRecord = {}
  for (const [key, member] of Object.entries(value)) if (!key.startsWith("$")) result[key] = withoutDirectives(member)
  return result
}

const mergeList = (original: unknown, patch: ReadonlyArray<unknown>, field: string, meta: FieldMeta): unknown => {
  if (patch.some((element) => isRecord(element) && element["$patch"] === "replace")) {
    return patch.filter((element) => !(isRecord(element) && element["$patch"] === "replace")).map(withoutDirectives)
  }
  const result = Array.isArray(original) ? [...original] : []
  if (meta.set === true) {
    for (const value of patch) if (!result.some((existing) => deepEqual(existing, value))) result.push(value)
    return result
  }
  const key = meta.mergeKey!
  for (const element of patch) {
    if (!isRecord(element) || element[key] === undefined) {
      throw new PatchProblem(`every element of ${field} must be an object with its merge key "${key}"`)
    }
    const at = result.findIndex((existing) => isRecord(existing) && deepEqual(existing[key], element[key]))
    if (element["$patch"] === "delete") {
      if (at >= 0) result.splice(at, 1)
      continue
    }
    const merged = mergeMap(at >= 0 ? result[at] : undefined, element, meta.fields)
    if (merged === DELETE) continue
    if (at >= 0) result[at] = merged
    else result.push(merged)
  }
  return result
}

const mergeMap = (original: unknown, patch: JsonRecord, fields: Fields | undefined): unknown => {
  const directive = patch["$patch"]
  if (directive === "replace") return withoutDirectives(patch)
  if (directive === "delete") return DELETE
  if (directive !== undefined && directive !== "merge") {
    throw new PatchProblem(`unknown $patch directive ${JSON.stringify(directive)} (replace, delete or merge)`)
  }
  const result: JsonRecord = isRecord(original) ? { ...original } : {}
  const removals: Array<[string, unknown]> = []
  for (const [key, value] of Object.entries(patch)) {
    if (key === "$patch" || key === "$retainKeys" || key.startsWith("$setElementOrder/")) continue
    if (key.startsWith("$deleteFromPrimitiveList/")) {
      removals.push([key.slice("$deleteFromPrimitiveList/".length), value])
      continue
    }
    if (key.startsWith("$")) throw new PatchProblem(`unsupported directive "${key}"`)
    const meta = fields?.[key]
    if (value === null) {
      delete result[key]
    } else if (isRecord(value)) {
      const merged = mergeMap(result[key], value, meta?.fields)
      if (merged === DELETE) delete result[key]
      else result[key] = merged
    } else if (Array.isArray(value) && meta !== undefined && (meta.mergeKey !== undefined || meta.set === true)) {
      result[key] = mergeList(result[key], value, key, meta)
    } else {
      result[key] = withoutDirectives(deepClone(value))
    }
  }
  for (const [field, values] of removals) {
    if (!Array.isArray(values)) throw new PatchProblem(`$deleteFromPrimitiveList/${field} must be a list`)
    const current = result[field]
    if (Array.isArray(current)) {
      result[field] = current.filter((item) => !values.some((value) => deepEqual(value, item)))
    }
  }
  const retain = patch["$retainKeys"]
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw new PatchProblem("$retainKeys must be a list of keys")
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key]
  }
  return result
}

/**
 * Applies a strategic merge patch to a Kubernetes object (see the top of this file for how far it
 * goes); an object outside Kubernetes' own groups gets a JSON merge patch. Left: why the patch
 * cannot apply.
 */
export const applyStrategicMergePatch = (object: JsonRecord, patch: unknown): Either.Either<JsonRecord, string> => {
  if (!isRecord(patch)) return Either.left("a strategic merge patch must be a map")
  const apiVersion = typeof object["apiVersion"] === "string" ? object["apiVersion"] : ""
  if (!isBuiltinGroup(apiVersion)) return Either.right(applyMergePatch(object, patch) as JsonRecord)
  const kind = typeof object["kind"] === "string" ? object["kind"] : ""
  try {
    const merged = mergeMap(object, patch, kinds[kind] ?? { metadata })
    return merged === DELETE
      ? Either.left("a $patch: delete of the whole object cannot be applied on restore")
      : Either.right(merged as JsonRecord)
  } catch (problem) {
    if (problem instanceof PatchProblem) return Either.left(problem.message)
    throw problem
  }
}
