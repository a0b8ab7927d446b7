// create, update, updateStatus, patch and delete with the apiserver's rules: server-owned
// metadata, optimistic concurrency, the status subresource, finalizers, dry runs.
import { Either } from "effect"

import type { GroupVersionResource, KubeObject, ObjectMeta, Patch } from "../../../services/KubeClient.ts"
import { KubeAlreadyExists, KubeConflict, KubeNotFound } from "../../../services/KubeClient.ts"
import { deepClone, isRecord } from "../../../src/kube/json.ts"
import { applyJsonPatch, applyMergePatch } from "../../../src/kube/patch.ts"
import {
  formatTimestamp,
  generatedSuffix,
  makeUid,
  nameProblem,
  sameContent,
  specChanged,
  withMetadata,
  withoutStatus,
  withStatus
} from "./objects.ts"
import type { ResourceType } from "./registry.ts"
import { apiVersionOf, isCrdResource, tableKey, typeFromCrd } from "./registry.ts"
import type { Result, State } from "./state.ts"
import { commit, groupResource, invalid, invalidError, lookup, notFound, scopeNamespace, serve } from "./state.ts"
import { current, dropTable, namespacePrefix, objectKey, sortedKeys } from "./store.ts"

export type WriteMode = "main" | "status"

const NAMESPACES = { group: "", resource: "namespaces" }

const hasStatus = (type: ResourceType, version: string): boolean => type.versions.get(version) ?? false

const tableFor = (state: State, type: ResourceType) => state.store.tables.get(tableKey(type.group, type.resource))

const conflict = (type: ResourceType, name: string, why: string) =>
  Either.left(
    new KubeConflict({
      resource: groupResource(type),
      name,
      message: `Operation cannot be fulfilled on ${groupResource(type)} "${name}": ${why}`
    })
  )

/** Drops server-owned fields a client may have copied from a read. */
const clientMeta = (metadata: ObjectMeta): Record<string, unknown> => {
  const meta: Record<string, unknown> = { ...metadata }
  for (
    const key of [
      "resourceVersion",
      "uid",
      "creationTimestamp",
      "deletionTimestamp",
      "deletionGracePeriodSeconds",
      "generation",
      "selfLink"
    ]
  ) {
    delete meta[key]
  }
  return meta
}

const withoutUndefined = (meta: Record<string, unknown>): ObjectMeta => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(meta)) if (value !== undefined) out[key] = value
  return out
}

/** What the real server adds to a new object of some kinds. */
const defaultsOnCreate = (type: ResourceType, object: KubeObject): KubeObject => {
  if (type.group === "" && type.resource === "namespaces") {
    const name = object.metadata.name ?? ""
    return {
      ...object,
      metadata: { ...object.metadata, labels: { ...object.metadata.labels, "kubernetes.io/metadata.name": name } },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" }
    }
  }
  return object
}

const crdStatus = (crd: KubeObject, type: ResourceType, now: number): Record<string, unknown> => {
  const spec = isRecord(crd["spec"]) ? crd["spec"] : {}
  const versions = Array.isArray(spec["versions"]) ? spec["versions"].filter(isRecord) : []
  const storage = versions.find((version) => version["storage"] === true)?.["name"]
  const time = formatTimestamp(now)
  return {
    acceptedNames: {
      plural: type.resource,
      singular: type.singularName,
      kind: type.kind,
      listKind: `${type.kind}List`,
      ...(type.shortNames.length > 0 ? { shortNames: type.shortNames } : {})
    },
    conditions: [
      {
        type: "NamesAccepted",
        status: "True",
        reason: "NoConflicts",
        message: "no conflicts found",
        lastTransitionTime: time
      },
      {
        type: "Established",
        status: "True",
        reason: "InitialNamesAccepted",
        message: "the initial names have been accepted",
        lastTransitionTime: time
      }
    ],
    storedVersions: typeof storage === "string" ? [storage] : []
  }
}

export const createObject = (
  state: State,
  gvr: GroupVersionResource,
  input: KubeObject,
  dryRun: boolean,
  now: number
): Result<KubeObject> =>
  Either.gen(function*() {
    const type = yield* lookup(state, gvr)
    if (input.kind !== undefined && input.kind !== "" && input.kind !== type.kind) {
      return yield* invalid(
        type,
        `kind ${input.kind} does not match the resource ${groupResource(type)} (${type.kind})`
      )
    }
    const copy = deepClone(input)
    const meta = copy.metadata ?? {}
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== "") {
      return yield* invalid(type, "resourceVersion should not be set on objects to be created")
    }
    const namespace = yield* scopeNamespace(type, meta.namespace)
    if (
      namespace !== "" &&
      current(state.store.tables.get(tableKey("", "namespaces")), objectKey("", namespace)) === undefined
    ) {
      // NamespaceLifecycle admission.
      return yield* Either.left(
        new KubeNotFound({ resource: "namespaces", name: namespace, message: `namespaces "${namespace}" not found` })
      )
    }
    const table = tableFor(state, type)
    let name = meta.name ?? ""
    if (name === "") {
      if (meta.generateName === undefined || meta.generateName === "") {
        return yield* invalid(type, "metadata.name or metadata.generateName is required")
      }
      for (let attempt = 0; attempt < 8; attempt++) {
        state.nameCounter += 1
        name = `${meta.generateName}${generatedSuffix(state.nameCounter)}`
        if (current(table, objectKey(namespace, name)) === undefined) break
      }
    }
    const problem = nameProblem(type, name)
    if (problem !== undefined) return yield* invalid(type, `metadata.name: Invalid value: ${problem}`, name)
    const key = objectKey(namespace, name)
    if (current(table, key) !== undefined) {
      return yield* Either.left(
        new KubeAlreadyExists({
          resource: groupResource(type),
          name,
          message: `${groupResource(type)} "${name}" already exists`
        })
      )
    }
    state.uidCounter += 1
    let object: KubeObject = {
      ...copy,
      apiVersion: apiVersionOf(type.group, gvr.version),
      kind: type.kind,
      metadata: withoutUndefined({
        ...clientMeta(meta),
        name,
        namespace: namespace === "" ? undefined : namespace,
        uid: makeUid(state.instance, state.uidCounter),
        creationTimestamp: formatTimestamp(now),
        generation: 1
      })
    }
    if (hasStatus(type, gvr.version)) object = withoutStatus(object)
    object = defaultsOnCreate(type, object)
    const crdType = isCrdResource(type)
      ? yield* Either.mapLeft(typeFromCrd(object), (why) => invalidError(type, why, name))
      : undefined
    if (dryRun) return serve(object, type, gvr.version)
    const created = commit(state, type, key, undefined, object, false)
    if (crdType !== undefined) {
      state.registry.types.set(tableKey(crdType.group, crdType.resource), crdType)
      // The apiextensions controllers accept the names and establish the CRD right after.
      commit(state, type, key, created, { ...created, status: crdStatus(created, crdType, now) }, false)
    }
    return serve(created, type, gvr.version)
  })

/** Deletes an object for good, with what the namespace and CRD controllers would delete with it. */
const removeObject = (state: State, type: ResourceType, key: string, last: KubeObject): KubeObject => {
  if (type.group === NAMESPACES.group && type.resource === NAMESPACES.resource) {
    const prefix = namespacePrefix(last.metadata.name ?? "")
    for (const other of state.registry.types.values()) {
      const table = other.namespaced ? tableFor(state, other) : undefined
      if (table === undefined) continue
      for (const otherKey of sortedKeys(table).filter((k) => k.startsWith(prefix))) {
        const object = current(table, otherKey)
        if (object !== undefined) commit(state, other, otherKey, object, object, true)
      }
    }
  }
  if (isCrdResource(type)) {
    const defined = [...state.registry.types.values()].find((other) => other.crd === last.metadata.name)
    if (defined !== undefined) {
      const table = tableFor(state, defined)
      for (const otherKey of table === undefined ? [] : [...sortedKeys(table)]) {
        const object = current(table, otherKey)
        if (object !== undefined) commit(state, defined, otherKey, object, object, true)
      }
      state.registry.types.delete(tableKey(defined.group, defined.resource))
      dropTable(state.store, tableKey(defined.group, defined.resource))
    }
  }
  return commit(state, type, key, last, last, true)
}

export const updateObject = (
  state: State,
  gvr: GroupVersionResource,
  input: KubeObject,
  mode: WriteMode,
  dryRun: boolean
): Result<KubeObject> =>
  Either.gen(function*() {
    const type = yield* lookup(state, gvr)
    const status = hasStatus(type, gvr.version)
    if (mode === "status" && !status) {
      return yield* Either.left(
        new KubeNotFound({
          resource: `${groupResource(type)}/status`,
          message: `the server could not find the requested resource (${groupResource(type)}/status)`
        })
      )
    }
    const copy = deepClone(input)
    const meta = copy.metadata ?? {}
    const name = meta.name ?? ""
    if (name === "") return yield* invalid(type, "metadata.name is required")
    const namespace = yield* scopeNamespace(type, meta.namespace)
    const key = objectKey(namespace, name)
    const stored = current(tableFor(state, type), key)
    if (stored === undefined) return yield* notFound(type, name)
    if (
      meta.resourceVersion !== undefined && meta.resourceVersion !== "" &&
      meta.resourceVersion !== stored.metadata.resourceVersion
    ) {
      return yield* conflict(
        type,
        name,
        "the object has been modified; please apply your changes to the latest version and try again"
      )
    }
    if (meta.uid !== undefined && meta.uid !== "" && meta.uid !== stored.metadata.uid) {
      return yield* conflict(
        type,
        name,
        `Precondition failed: UID in precondition: ${stored.metadata.uid}, UID in object meta: ${meta.uid}`
      )
    }
    if (input.kind !== undefined && input.kind !== "" && input.kind !== type.kind) {
      return yield* invalid(
        type,
        `kind ${input.kind} does not match the resource ${groupResource(type)} (${type.kind})`,
        name
      )
    }
    let next: KubeObject
    if (mode === "status") {
      next = withStatus(stored, copy["status"])
    } else {
      next = {
        ...copy,
        apiVersion: stored.apiVersion,
        kind: type.kind,
        metadata: withoutUndefined({
          ...clientMeta(meta),
          name,
          namespace: namespace === "" ? undefined : namespace,
          uid: stored.metadata.uid,
          creationTimestamp: stored.metadata.creationTimestamp,
          deletionTimestamp: stored.metadata.deletionTimestamp,
          deletionGracePeriodSeconds: stored.metadata["deletionGracePeriodSeconds"],
          generation: stored.metadata.generation
        })
      }
      if (status) next = withStatus(next, stored["status"])
      if (stored.metadata.deletionTimestamp !== undefined) {
        const before = new Set(stored.metadata.finalizers ?? [])
        if ((next.metadata.finalizers ?? []).some((finalizer) => !before.has(finalizer))) {
          return yield* invalid(
            type,
            "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted",
            name
          )
        }
      }
      if (isCrdResource(type)) {
        const crdType = yield* Either.mapLeft(typeFromCrd(next), (why) => invalidError(type, why, name))
        if (!dryRun) state.registry.types.set(tableKey(crdType.group, crdType.resource), crdType)
      }
      if (specChanged(stored, next)) {
        next = withMetadata(next, { ...next.metadata, generation: (stored.metadata.generation ?? 0) + 1 })
      }
    }
    next = withMetadata(next, withoutUndefined({ ...next.metadata, resourceVersion: stored.metadata.resourceVersion }))
    // etcd skips a write that changes nothing: no new revision, no watch event.
    if (sameContent(stored, next)) {
      return serve(stored, type, gvr.version)
    }
    if (dryRun) return serve(next, type, gvr.version)
    if (next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0) {
      return serve(removeObject(state, type, key, next), type, gvr.version)
    }
    return serve(commit(state, type, key, stored, next, false), type, gvr.version)
  })

export const patchObject = (
  state: State,
  gvr: GroupVersionResource,
  name: string,
  patch: Patch,
  namespace: string | undefined,
  mode: WriteMode,
  dryRun: boolean
): Result<KubeObject> =>
  Either.gen(function*() {
    const type = yield* lookup(state, gvr)
    const ns = yield* scopeNamespace(type, namespace)
    const stored = current(tableFor(state, type), objectKey(ns, name))
    if (stored === undefined) return yield* notFound(type, name)
    const served = serve(stored, type, gvr.version)
    const patched = patch.type === "merge"
      ? applyMergePatch(served, patch.body)
      : yield* Either.mapLeft(applyJsonPatch(served, patch.ops), (error) => invalidError(type, error.message, name))
    if (!isRecord(patched) || !isRecord(patched["metadata"])) {
      return yield* invalid(type, "the patch must leave an object with metadata", name)
    }
    const metadata: ObjectMeta = patched["metadata"]
    if (metadata.name !== name) {
      return yield* invalid(
        type,
        `the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`,
        name
      )
    }
    if ((metadata.namespace ?? "") !== ns) {
      return yield* invalid(type, "the namespace of the object does not match the namespace on the URL", name)
    }
    const object: KubeObject = {
      ...patched,
      apiVersion: typeof patched["apiVersion"] === "string" ? patched["apiVersion"] : served.apiVersion,
      kind: typeof patched["kind"] === "string" ? patched["kind"] : served.kind,
      metadata
    }
    return yield* updateObject(state, gvr, object, mode, dryRun)
  })

export const deleteObject = (
  state: State,
  gvr: GroupVersionResource,
  name: string,
  namespace: string | undefined,
  dryRun: boolean,
  now: number
): Result<void> =>
  Either.gen(function*() {
    const type = yield* lookup(state, gvr)
    const ns = yield* scopeNamespace(type, namespace)
    const key = objectKey(ns, name)
    const stored = current(tableFor(state, type), key)
    if (stored === undefined) return yield* notFound(type, name)
    if (dryRun) return
    if ((stored.metadata.finalizers ?? []).length > 0) {
      // Finalizers hold the object, marked for deletion, until the last one is removed.
      if (stored.metadata.deletionTimestamp === undefined) {
        commit(
          state,
          type,
          key,
          stored,
          withMetadata(stored, {
            ...stored.metadata,
            deletionTimestamp: formatTimestamp(now),
            deletionGracePeriodSeconds: 0
          }),
          false
        )
      }
      return
    }
    removeObject(state, type, key, stored)
  })
