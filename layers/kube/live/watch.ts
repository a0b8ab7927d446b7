import type { KubeError, KubeObject, WatchEvent } from "../../../services/KubeClient.ts"
import { KubeUnavailable } from "../../../services/KubeClient.ts"
import type { RequestContext } from "./errors.ts"
import { statusError } from "./errors.ts"

export type WatchLine =
  | { readonly _tag: "Event"; readonly event: WatchEvent }
  | { readonly _tag: "Error"; readonly error: KubeError }
  | { readonly _tag: "Skip" }

const isEventType = (type: string): type is WatchEvent["type"] =>
  type === "ADDED" || type === "MODIFIED" || type === "DELETED" || type === "BOOKMARK"

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Objects are kept as the server's JSON; only the envelope is checked. */
export const isKubeObject = (value: unknown): value is KubeObject => isObject(value) && isObject(value["metadata"])

/**
 * One line of a watch response. An ERROR event carries a Status: code 410 ("Expired") means the
 * revision was compacted and the caller must list again.
 */
export const parseWatchLine = (line: string, context: RequestContext): WatchLine => {
  if (line.trim() === "") return { _tag: "Skip" }
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch (cause) {
    return {
      _tag: "Error",
      error: new KubeUnavailable({
        resource: context.resource,
        message: `malformed watch event: ${line.slice(0, 200)}`,
        cause
      })
    }
  }
  if (!isObject(parsed) || typeof parsed["type"] !== "string" || !isObject(parsed["object"])) {
    return {
      _tag: "Error",
      error: new KubeUnavailable({
        resource: context.resource,
        message: `malformed watch event: ${line.slice(0, 200)}`
      })
    }
  }
  const type = parsed["type"]
  const object = parsed["object"]
  if (type === "ERROR") {
    const code = typeof object["code"] === "number" ? object["code"] : 500
    return { _tag: "Error", error: statusError(code, object, context) }
  }
  if (!isEventType(type)) return { _tag: "Skip" }
  if (!isKubeObject(object)) {
    return {
      _tag: "Error",
      error: new KubeUnavailable({
        resource: context.resource,
        message: `watch event without metadata: ${line.slice(0, 200)}`
      })
    }
  }
  return { _tag: "Event", event: { type, object } }
}
