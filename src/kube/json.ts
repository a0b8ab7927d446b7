// Small helpers for the plain JSON that Kubernetes objects are made of.

export type JsonRecord = Record<string, unknown>

export const isRecord = (value: unknown): value is JsonRecord =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Structural equality of JSON values; key order does not matter. */
export const deepEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false
    return true
  }
  if (isRecord(a)) {
    if (!isRecord(b)) return false
    const keys = Object.keys(a).filter((key) => a[key] !== undefined)
    if (keys.length !== Object.keys(b).filter((key) => b[key] !== undefined).length) return false
    for (const key of keys) if (!deepEqual(a[key], b[key])) return false
    return true
  }
  return false
}

/**
 * A deep copy of a JSON value, so stored objects never alias a caller's. JSON round-tripping is
 * several times faster than structuredClone for this data; `undefined` members disappear.
 */
export const deepClone = <A>(value: A): A => (value === undefined ? value : JSON.parse(JSON.stringify(value)))
