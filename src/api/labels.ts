// Ark's labels, and how a resource name becomes a label value. Names run to 253 characters, label
// values to 63: a longer name is labelled with its first characters and a hash of the whole, and
// the full name goes in an annotation of the same key. Lookups select by the label and confirm by
// the full name, since two long names may share a label value.
import type { KubeObject } from "../../services/KubeClient.ts"

/** Put on every restored object. */
export const restoreNameLabel = "ark.heptio.com/restore-name"
/** Put on every restored object, on the restores of a backup and on its DeleteBackupRequests. */
export const backupNameLabel = "ark.heptio.com/backup-name"
/** Put on every backup a schedule creates. */
export const scheduleNameLabel = "ark.heptio.com/schedule-name"
/** The schedule label of Ark 0.x, still written for compatibility. */
export const legacyScheduleNameLabel = "ark-schedule"

const LABEL_VALUE_MAX = 63

/** FNV-1a, 32 bits, as 8 hex digits: stable and dependency-free; not a security boundary. */
const fnv1a = (text: string): string => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16).padStart(8, "0")
}

/**
 * A resource name as a label value: unchanged up to 63 characters; longer, its first characters
 * (ending in a letter or digit) then `-` and a hash of the whole name, 63 characters at most.
 */
export const nameLabelValue = (name: string): string => {
  if (name.length <= LABEL_VALUE_MAX) return name
  const suffix = fnv1a(name)
  return `${name.slice(0, LABEL_VALUE_MAX - suffix.length - 1).replace(/[^A-Za-z0-9]+$/, "")}-${suffix}`
}

/** Labels and annotations to merge into an object's metadata. */
export interface NameMarkers {
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
}

/** Each name under its key: the label value always, the full name as an annotation when it was shortened. */
export const nameMarkers = (names: Readonly<Record<string, string>>): NameMarkers => {
  const labels: Record<string, string> = {}
  const annotations: Record<string, string> = {}
  for (const [key, name] of Object.entries(names)) {
    labels[key] = nameLabelValue(name)
    if (labels[key] !== name) annotations[key] = name
  }
  return { labels, annotations }
}

/** Both schedule labels, Ark's and Ark 0.x's, and the full name under Ark's key when shortened. */
export const scheduleMarkers = (schedule: string): NameMarkers => {
  const markers = nameMarkers({ [scheduleNameLabel]: schedule })
  return { ...markers, labels: { ...markers.labels, [legacyScheduleNameLabel]: nameLabelValue(schedule) } }
}

/** `metadata` with the markers merged in; no empty annotations are added. */
export const withMarkers = <M extends KubeObject["metadata"]>(
  metadata: M,
  markers: NameMarkers
): M & {
  readonly labels: Readonly<Record<string, string>>
  readonly annotations?: Readonly<Record<string, string>>
} => ({
  ...metadata,
  labels: { ...metadata.labels, ...markers.labels },
  ...(Object.keys(markers.annotations).length === 0
    ? {}
    : { annotations: { ...metadata.annotations, ...markers.annotations } })
})

/** The label selector that finds the objects naming `name` under `key`; confirm each with `namesIt`. */
export const nameSelector = (key: string, name: string): string => `${key}=${nameLabelValue(name)}`

/** The full name an object carries under `key`: the annotation, else the label; undefined without either. */
export const nameOf = (object: KubeObject, key: string): string | undefined =>
  object.metadata.annotations?.[key] ?? object.metadata.labels?.[key]

/** Whether the object's label under `key` is `name`'s value and its full name is `name`. */
export const namesIt = (object: KubeObject, key: string, name: string): boolean =>
  object.metadata.labels?.[key] === nameLabelValue(name) && nameOf(object, key) === name
