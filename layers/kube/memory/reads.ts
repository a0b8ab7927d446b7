// get, one page of a list at a revision, and the start of a watch.
import { Either } from "effect"

import type {
  GroupVersionResource,
  KubeObject,
  ListOptions,
  WatchEvent,
  WatchOptions
} from "../../../services/KubeClient.ts"
import { KubeGone } from "../../../services/KubeClient.ts"
import type { FieldSelector } from "../../../src/kube/fieldSelector.ts"
import { matchesFields, parseFieldSelector } from "../../../src/kube/fieldSelector.ts"
import { isRecord } from "../../../src/kube/json.ts"
import type { Selector } from "../../../src/kube/labelSelector.ts"
import { matchesLabels, parseLabelSelector } from "../../../src/kube/labelSelector.ts"
import { isSelectableField, selectableFields } from "./objects.ts"
import type { ResourceType } from "./registry.ts"
import { tableKey } from "./registry.ts"
import type { Result, State } from "./state.ts"
import {
  groupResource,
  invalid,
  invalidError,
  lookup,
  notFound,
  parseRevision,
  readableRevision,
  scopeNamespace,
  serve
} from "./state.ts"
import { current, lowerBound, namespacePrefix, objectAt, objectKey, sortedKeys } from "./store.ts"
import type { Change } from "./watch.ts"
import { changesAfter, toEvent } from "./watch.ts"

export const getObject = (
  state: State,
  gvr: GroupVersionResource,
  name: string,
  namespace: string | undefined
): Result<KubeObject> =>
  Either.gen(function*() {
    const type = yield* lookup(state, gvr)
    const ns = yield* scopeNamespace(type, namespace)
    const object = current(state.store.tables.get(tableKey(type.group, type.resource)), objectKey(ns, name))
    return object === undefined ? yield* notFound(type, name) : serve(object, type, gvr.version)
  })

interface Filters {
  readonly labels: Selector
  readonly fields: FieldSelector
}

const parseFilters = (
  type: ResourceType,
  labelSelector: string | undefined,
  fieldSelector: string | undefined
): Result<Filters> =>
  Either.gen(function*() {
    const labels = yield* Either.mapLeft(parseLabelSelector(labelSelector ?? ""), (e) =>
      invalidError(type, `unable to parse requirement: ${e.message}`))
    const fields = yield* Either.mapLeft(parseFieldSelector(fieldSelector ?? ""), (e) =>
      invalidError(type, e.message))
    const unsupported = fields.find((requirement) => !isSelectableField(type, requirement.field))
    if (unsupported !== undefined) return yield* invalid(type, `field label not supported: ${unsupported.field}`)
    return { labels, fields }
  })

const passes = (type: ResourceType, filters: Filters, object: KubeObject): boolean =>
  matchesLabels(filters.labels, object.metadata.labels) &&
  (filters.fields.length === 0 || matchesFields(filters.fields, selectableFields(type, object)))

interface ContinueToken {
  readonly revision: number
  /** The last key served; the next page starts after it. */
  readonly after: string
}

const encodeToken = (token: ContinueToken): string => Buffer.from(JSON.stringify(token)).toString("base64url")

const decodeToken = (type: ResourceType, token: string): Result<ContinueToken> => {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"))
    if (isRecord(decoded) && typeof decoded["revision"] === "number" && typeof decoded["after"] === "string") {
      return Either.right({ revision: decoded["revision"], after: decoded["after"] })
    }
  } catch {
    // falls through to the 400 below
  }
  return invalid(type, "invalid continue token")
}

/** The revision a first page is served at, per "API concepts: resource versions". */
const listRevision = (state: State, type: ResourceType, options: ListOptions): Result<number> =>
  Either.gen(function*() {
    const rv = options.resourceVersion
    if (rv === undefined || rv === "") {
      if (options.resourceVersionMatch !== undefined) {
        return yield* invalid(type, "resourceVersionMatch is forbidden unless resourceVersion is provided")
      }
      return state.store.revision
    }
    const revision = yield* parseRevision(type, rv)
    // Without a match, a non-zero resourceVersion with a limit is the legacy exact read.
    const exact = options.resourceVersionMatch === "Exact" ||
      (options.resourceVersionMatch === undefined && revision !== 0 && options.limit !== undefined && options.limit > 0)
    if (exact) {
      if (revision === 0) {
        return yield* invalid(type, `resourceVersionMatch "Exact" is forbidden for resourceVersion "0"`)
      }
      return yield* readableRevision(state, type, revision)
    }
    if (revision > state.store.revision) {
      // Not older than a revision the server has not reached: the real one gives up after 3s.
      yield* readableRevision(state, type, revision)
    }
    return state.store.revision
  })

export interface Page {
  readonly items: ReadonlyArray<KubeObject>
  readonly resourceVersion: string
  readonly continue: string | undefined
}

/** One page: the first when `token` is undefined, else the one after the token, at the token's revision. */
export const listPage = (
  state: State,
  gvr: GroupVersionResource,
  options: ListOptions,
  token: string | undefined
): Result<Page> =>
  Either.gen(function*() {
    const type = yield* lookup(state, gvr)
    const filters = yield* parseFilters(type, options.labelSelector, options.fieldSelector)
    const position = token === undefined ? undefined : yield* decodeToken(type, token)
    if (position !== undefined && position.revision < state.store.compacted) {
      return yield* Either.left(
        new KubeGone({
          resource: groupResource(type),
          message: "The provided continue parameter is too old to display a consistent list result. " +
            "You can start a new list without the continue parameter."
        })
      )
    }
    const revision = position?.revision ?? (yield* listRevision(state, type, options))
    const table = state.store.tables.get(tableKey(type.group, type.resource))
    const items: Array<KubeObject> = []
    let more: string | undefined
    if (table !== undefined) {
      const keys = sortedKeys(table)
      const prefix = type.namespaced && options.namespace !== undefined && options.namespace !== ""
        ? namespacePrefix(options.namespace)
        : undefined
      let start = prefix === undefined ? 0 : lowerBound(keys, prefix, true)
      if (position !== undefined) start = Math.max(start, lowerBound(keys, position.after, false))
      const limit = options.limit !== undefined && options.limit > 0 ? options.limit : Infinity
      for (let i = start; i < keys.length; i++) {
        const key = keys[i]!
        if (prefix !== undefined && !key.startsWith(prefix)) break
        const object = objectAt(table, key, revision)
        if (object === undefined || !passes(type, filters, object)) continue
        if (items.length === limit) {
          more = keys[i - 1]
          break
        }
        items.push(serve(object, type, gvr.version))
      }
      // The token resumes after the last item served, wherever the look-ahead stopped.
      if (more !== undefined && items.length > 0) {
        const last = items[items.length - 1]!
        more = objectKey(last.metadata.namespace ?? "", last.metadata.name ?? "")
      }
    }
    return {
      items,
      resourceVersion: String(revision),
      continue: more === undefined ? undefined : encodeToken({ revision, after: more })
    }
  })

export interface WatchStart {
  readonly replay: ReadonlyArray<WatchEvent>
  readonly stop: () => void
}

/** Registers a watcher and returns what happened before it, in one atomic step: nothing is lost or doubled. */
export const startWatch = (
  state: State,
  gvr: GroupVersionResource,
  options: WatchOptions,
  emit: (event: WatchEvent) => void
): Result<WatchStart> =>
  Either.gen(function*() {
    const type = yield* lookup(state, gvr)
    const filters = yield* parseFilters(type, options.labelSelector, undefined)
    const ns = type.namespaced && options.namespace !== undefined && options.namespace !== ""
      ? options.namespace
      : undefined
    const filter = (object: KubeObject) =>
      (ns === undefined || object.metadata.namespace === ns) && passes(type, filters, object)
    const table = tableKey(type.group, type.resource)
    const rv = options.resourceVersion
    const replay: Array<WatchEvent> = []
    const toServed = (event: WatchEvent): WatchEvent => ({
      type: event.type,
      object: serve(event.object, type, gvr.version)
    })
    if (rv === undefined || rv === "" || rv === "0") {
      const existing = state.store.tables.get(table)
      if (existing !== undefined) {
        for (const key of sortedKeys(existing)) {
          const object = current(existing, key)
          if (object !== undefined && filter(object)) replay.push(toServed({ type: "ADDED", object }))
        }
      }
    } else {
      const revision = yield* readableRevision(state, type, yield* parseRevision(type, rv))
      for (
        const change of changesAfter(
          state.store.tables.get(table),
          revision,
          ns === undefined ? undefined : namespacePrefix(ns)
        )
      ) {
        const event = toEvent(change, filter)
        if (event !== undefined) replay.push(toServed(event))
      }
    }
    const watcher = {
      tableKey: table,
      deliver: (change: Change) => {
        const event = toEvent(change, filter)
        if (event !== undefined) emit(toServed(event))
      }
    }
    state.watchers.add(watcher)
    return { replay, stop: () => state.watchers.delete(watcher) }
  })
