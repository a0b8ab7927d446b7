// The fake API server's state and the helpers every verb shares. Every operation is one
// synchronous function over plain mutable maps: JavaScript runs it to completion, so each
// verb is atomic, as one etcd transaction is.
import { Either } from "effect"

import type { GroupVersionResource, KubeError, KubeObject } from "../../../services/KubeClient.ts"
import { KubeGone, KubeInvalid, KubeNotFound, KubeUnavailable } from "../../../services/KubeClient.ts"
import type { Registry, ResourceType } from "./registry.ts"
import { apiVersionOf, makeRegistry, resolve, tableKey } from "./registry.ts"
import type { Store } from "./store.ts"
import { makeStore, record } from "./store.ts"
import type { Change } from "./watch.ts"

export interface Watcher {
  readonly tableKey: string
  readonly deliver: (change: Change) => void
}

export interface State {
  readonly store: Store
  readonly registry: Registry
  readonly watchers: Set<Watcher>
  /** Distinguishes the uids of two fake clusters in one process. */
  readonly instance: number
  uidCounter: number
  nameCounter: number
}

let instances = 0

export const makeState = (): State => {
  instances += 1
  return {
    store: makeStore(),
    registry: makeRegistry(),
    watchers: new Set(),
    instance: instances,
    uidCounter: 0,
    nameCounter: 0
  }
}

export type Result<A> = Either.Either<A, KubeError>

/** `pods`, `deployments.apps`: how the server names a resource in its messages. */
export const groupResource = (gvr: { readonly group: string; readonly resource: string }): string =>
  gvr.group === "" ? gvr.resource : `${gvr.resource}.${gvr.group}`

export const lookup = (state: State, gvr: GroupVersionResource): Result<ResourceType> => {
  const type = resolve(state.registry, gvr)
  return type === undefined
    ? Either.left(
      new KubeNotFound({
        resource: groupResource(gvr),
        message: `the server could not find the requested resource (${
          apiVersionOf(gvr.group, gvr.version)
        }, ${gvr.resource})`
      })
    )
    : Either.right(type)
}

export const invalidError = (
  type: { readonly group: string; readonly resource: string },
  message: string,
  name?: string
) => new KubeInvalid({ resource: groupResource(type), message, ...(name === undefined ? {} : { name }) })

export const invalid = (type: { readonly group: string; readonly resource: string }, message: string, name?: string) =>
  Either.left(invalidError(type, message, name))

export const notFound = (type: { readonly group: string; readonly resource: string }, name: string) =>
  Either.left(
    new KubeNotFound({ resource: groupResource(type), name, message: `${groupResource(type)} "${name}" not found` })
  )

/** The namespace an object of this type lives in: required when namespaced, "" otherwise. */
export const scopeNamespace = (type: ResourceType, namespace: string | undefined): Result<string> =>
  !type.namespaced
    ? Either.right("")
    : namespace === undefined || namespace === ""
    ? invalid(type, `${groupResource(type)} are namespaced: a namespace is required`)
    : Either.right(namespace)

/** The object as the requested version presents it (no conversion beyond apiVersion, like `conversion: None`). */
export const serve = (object: KubeObject, type: ResourceType, version: string): KubeObject => {
  const apiVersion = apiVersionOf(type.group, version)
  return object.apiVersion === apiVersion ? object : { ...object, apiVersion }
}

export const parseRevision = (type: ResourceType, resourceVersion: string): Result<number> =>
  /^(0|[1-9][0-9]*)$/.test(resourceVersion) && Number.isSafeInteger(Number(resourceVersion))
    ? Either.right(Number(resourceVersion))
    : invalid(type, `invalid resourceVersion "${resourceVersion}"`)

/** Checks a revision for an exact read: not newer than now (504), not compacted (410). */
export const readableRevision = (state: State, type: ResourceType, revision: number): Result<number> =>
  revision > state.store.revision
    ? Either.left(
      new KubeUnavailable({
        resource: groupResource(type),
        status: 504,
        message: `Too large resource version: ${revision}, current: ${state.store.revision}`
      })
    )
    : revision < state.store.compacted
    ? Either.left(
      new KubeGone({
        resource: groupResource(type),
        message: `The resourceVersion for the provided list is too old (${revision} < ${state.store.compacted}).`
      })
    )
    : Either.right(revision)

/** Records a version and tells the watchers of its table. */
export const commit = (
  state: State,
  type: ResourceType,
  key: string,
  previous: KubeObject | undefined,
  object: KubeObject,
  deleted: boolean
): KubeObject => {
  const table = tableKey(type.group, type.resource)
  const version = record(state.store, table, key, object, deleted)
  const change: Change = { revision: version.revision, previous, object: version.object, deleted }
  for (const watcher of state.watchers) if (watcher.tableKey === table) watcher.deliver(change)
  return version.object
}
