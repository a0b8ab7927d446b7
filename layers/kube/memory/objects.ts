// What the API server fills in or checks on every object: names, uids, timestamps, generation,
// selectable fields.
import { DateTime } from "effect"

import type { KubeObject, ObjectMeta } from "../../../services/KubeClient.ts"
import { deepEqual, isRecord } from "../../../src/kube/json.ts"
import type { ResourceType } from "./registry.ts"

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** Why the real server would reject this name for this resource, or undefined. */
export const nameProblem = (type: ResourceType, name: string): string | undefined => {
  if (type.group === "" && type.resource === "namespaces") {
    return name.length <= 63 && DNS_LABEL.test(name) ? undefined : `"${name}" must be a DNS label (RFC 1123)`
  }
  if (type.group === "rbac.authorization.k8s.io") {
    // RBAC names are path segments: `system:controller:foo` is fine.
    return name === "" || name === "." || name === ".." || /[/%]/.test(name)
      ? `"${name}" is not a valid path segment name`
      : undefined
  }
  return name.length <= 253 && DNS_SUBDOMAIN.test(name) ? undefined : `"${name}" must be a DNS subdomain (RFC 1123)`
}

const SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

/** Five characters from the apiserver's generateName alphabet, derived from a counter. */
export const generatedSuffix = (counter: number): string => {
  // Knuth's multiplicative hash spreads consecutive counters over the 27^5 suffix space.
  let n = Math.imul(counter + 1, 2654435761) >>> 0
  let suffix = ""
  for (let i = 0; i < 5; i++) {
    suffix += SUFFIX_ALPHABET[n % SUFFIX_ALPHABET.length]
    n = Math.floor(n / SUFFIX_ALPHABET.length)
  }
  return suffix
}

/** A UUID-shaped, deterministic uid; `instance` keeps two fake clusters from sharing uids. */
export const makeUid = (instance: number, counter: number): string =>
  `${instance.toString(16).padStart(8, "0")}-0000-4000-8000-${counter.toString(16).padStart(12, "0")}`

/** RFC 3339 with second precision, as metav1.Time serializes. */
export const formatTimestamp = (epochMillis: number): string =>
  DateTime.formatIso(DateTime.unsafeMake(Math.floor(epochMillis / 1000) * 1000)).replace(/\.\d{3}Z$/, "Z")

const withoutKeys = (object: KubeObject, keys: ReadonlyArray<string>): Record<string, unknown> => {
  const rest: Record<string, unknown> = { ...object }
  for (const key of keys) delete rest[key]
  return rest
}

/** True when anything but metadata and status changed: the edits that bump metadata.generation. */
export const specChanged = (before: KubeObject, after: KubeObject): boolean =>
  !deepEqual(
    withoutKeys(before, ["apiVersion", "kind", "metadata", "status"]),
    withoutKeys(after, ["apiVersion", "kind", "metadata", "status"])
  )

/** True when the write would store the same bytes; etcd then keeps the old revision. */
export const sameContent = (before: KubeObject, after: KubeObject): boolean =>
  deepEqual(
    { ...withoutKeys(before, ["apiVersion"]), metadata: { ...before.metadata, resourceVersion: undefined } },
    { ...withoutKeys(after, ["apiVersion"]), metadata: { ...after.metadata, resourceVersion: undefined } }
  )

export const withMetadata = (object: KubeObject, metadata: ObjectMeta): KubeObject => ({ ...object, metadata })

export const withoutStatus = (object: KubeObject): KubeObject => {
  const { status: _status, ...rest } = object
  return rest
}

export const withStatus = (object: KubeObject, status: unknown): KubeObject =>
  status === undefined ? withoutStatus(object) : { ...object, status }

const fieldValue = (object: KubeObject, path: string): string => {
  let current: unknown = object
  for (const segment of path.split(".")) {
    if (!isRecord(current)) return ""
    current = current[segment]
  }
  return typeof current === "string"
    ? current
    : typeof current === "number" || typeof current === "boolean"
    ? String(current)
    : ""
}

/** The field-selector view of an object: metadata.name, metadata.namespace and the type's own fields. */
export const selectableFields = (type: ResourceType, object: KubeObject): Record<string, string> => {
  const fields: Record<string, string> = {
    "metadata.name": object.metadata.name ?? "",
    "metadata.namespace": object.metadata.namespace ?? ""
  }
  for (const field of type.selectableFields) fields[field] = fieldValue(object, field)
  return fields
}

export const isSelectableField = (type: ResourceType, field: string): boolean =>
  field === "metadata.name" || field === "metadata.namespace" || type.selectableFields.includes(field)
