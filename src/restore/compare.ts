// Live object vs the object the restore wants (both through `comparable`): a short diff for
// people, and the merge patch that turns one into the other for policy `update`.
import type { JsonRecord } from "../kube/json.ts"
import { deepEqual, isRecord } from "../kube/json.ts"

export const defaultDiffLines = 10
const VALUE_LIMIT = 60

const segment = (
  key: string
): string => (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`)

const show = (value: unknown): string => {
  if (value === undefined) return "(none)"
  const text = JSON.stringify(value)
  return text.length > VALUE_LIMIT ? `${text.slice(0, VALUE_LIMIT - 1)}…` : text
}

const collect = (path: string, live: unknown, wanted: unknown, out: Array<string>): void => {
  if (deepEqual(live, wanted)) return
  if (isRecord(live) && isRecord(wanted)) {
    const keys = [...new Set([...Object.keys(live), ...Object.keys(wanted)])].sort()
    for (const key of keys) collect(`${path}${segment(key)}`, live[key], wanted[key], out)
    return
  }
  if (Array.isArray(live) && Array.isArray(wanted) && live.length === wanted.length) {
    live.forEach((item, index) => collect(`${path}[${index}]`, item, wanted[index], out))
    return
  }
  out.push(`${path === "" ? "(object)" : path.replace(/^\./, "")}: ${show(live)} → ${show(wanted)}`)
}

/** `path: live → wanted` lines, at most `limit`, then one line counting the rest. */
export const diffLines = (live: unknown, wanted: unknown, limit: number = defaultDiffLines): ReadonlyArray<string> => {
  const lines: Array<string> = []
  collect("", live, wanted, lines)
  return lines.length <= limit ? lines : [...lines.slice(0, limit), `… and ${lines.length - limit} more differences`]
}

/** RFC 7386 patch from `live` to `wanted`: changed keys set, missing keys null, arrays replaced whole. */
export const mergePatchBetween = (live: JsonRecord, wanted: JsonRecord): JsonRecord => {
  const patch: JsonRecord = {}
  for (const [key, value] of Object.entries(wanted)) {
    const current = live[key]
    if (deepEqual(current, value)) continue
    if (isRecord(current) && isRecord(value)) patch[key] = mergePatchBetween(current, value)
    else patch[key] = value
  }
  for (const key of Object.keys(live)) {
    if (live[key] !== undefined && wanted[key] === undefined) patch[key] = null
  }
  return patch
}
