import type { ObjectInfo, ObjectListing } from "../../services/ObjectStore.ts"

/**
 * S3's listing semantics over a flat set of keys: keys under `prefix`, sorted, and with a
 * delimiter the keys past it folded into common prefixes.
 */
export const groupListing = (
  prefix: string,
  objects: Iterable<ObjectInfo>,
  delimiter?: string
): ObjectListing => {
  const matching: Array<ObjectInfo> = []
  const prefixes = new Set<string>()
  for (const object of objects) {
    if (!object.key.startsWith(prefix)) continue
    const rest = object.key.slice(prefix.length)
    const cut = delimiter === undefined || delimiter === "" ? -1 : rest.indexOf(delimiter)
    if (cut >= 0 && delimiter !== undefined) {
      prefixes.add(prefix + rest.slice(0, cut + delimiter.length))
    } else {
      matching.push(object)
    }
  }
  return {
    objects: matching.sort((a, b) => compareKeys(a.key, b.key)),
    prefixes: [...prefixes].sort(compareKeys)
  }
}

const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Joins the store's prefix and a key with exactly one "/" between them. */
export const joinKey = (prefix: string | undefined, key: string): string => {
  if (prefix === undefined || prefix === "") return key
  return prefix.endsWith("/") ? prefix + key : `${prefix}/${key}`
}
