// An in-memory Kubernetes API server behind the KubeClient port: one global revision, object
// history for exact reads at a revision, compaction, pagination, watches, CRD-driven discovery.
// It mirrors kube-apiserver 1.34 wherever Ark can observe the difference; the places where it
// deliberately does less are listed in layers/kube/memory/README.md.
import { Clock, Context, Duration, Effect, Either, FiberRef, Layer, Option, Queue, Stream } from "effect"

import type {
  DeleteOptions,
  GroupVersionResource,
  KubeError,
  KubeObject,
  ListOptions,
  Patch,
  WatchEvent,
  WatchOptions,
  WriteOptions
} from "../../services/KubeClient.ts"
import { KubeClient, KubeInvalid, KubeNotFound, throttleObserver } from "../../services/KubeClient.ts"
import { getObject, listPage, startWatch } from "./memory/reads.ts"
import { byApiVersionKind, discovery } from "./memory/registry.ts"
import type { Result } from "./memory/state.ts"
import { makeState } from "./memory/state.ts"
import { compact as compactStore } from "./memory/store.ts"
import { createObject, deleteObject, patchObject, updateObject } from "./memory/writes.ts"

export type KubeVerb =
  | "discover"
  | "list"
  | "get"
  | "create"
  | "update"
  | "updateStatus"
  | "patch"
  | "patchStatus"
  | "delete"
  | "watch"

/** Test handle on the fake server: revisions, compaction and injected faults. */
export interface MemoryKubeControl {
  /** The newest revision, as a resourceVersion string. */
  readonly currentRevision: Effect.Effect<string>
  /** Like etcd compaction: reads and watches older than `revision` (default: now) answer 410 Gone. */
  readonly compact: (revision?: string) => Effect.Effect<void, KubeInvalid>
  /** The next call of `verb` fails with `error` (queued: call twice to fail twice). A list fails per page. */
  readonly failNext: (verb: KubeVerb, error: KubeError) => Effect.Effect<void>
  /**
   * The next call of `verb` meets a 429, handled as the live client does: the sending fiber's
   * throttleObserver is told, the call waits `retryAfter` (default 250ms, the live first backoff)
   * and then goes through. Queued like failNext.
   */
  readonly throttleNext: (verb: KubeVerb, retryAfter?: Duration.Duration) => Effect.Effect<void>
  /** Discovery reports this group version as failed, like an unavailable aggregated API. */
  readonly failDiscovery: (groupVersion: string, message: string) => Effect.Effect<void>
  /** Creates objects, resolving each resource from apiVersion and kind, and any missing namespace. */
  readonly seed: (objects: ReadonlyArray<KubeObject>) => Effect.Effect<ReadonlyArray<KubeObject>, KubeError>
  /** Open watches, so a test can wait until its watch is established before writing. */
  readonly watchers: Effect.Effect<number>
}

export class MemoryKube extends Context.Tag("ark/MemoryKube")<MemoryKube, MemoryKubeControl>() {}

/** The namespaces every real cluster starts with. */
const INITIAL_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"]

const NAMESPACES: GroupVersionResource = { group: "", version: "v1", resource: "namespaces" }

const fromResult = <A>(result: Result<A>): Effect.Effect<A, KubeError> =>
  Either.match(result, { onLeft: (error) => Effect.fail(error), onRight: (value) => Effect.succeed(value) })

/** Runs one verb as a single synchronous step, so it is atomic against every other fiber. */
const atomically = <A>(verb: () => Result<A>): Effect.Effect<A, KubeError> => Effect.suspend(() => fromResult(verb()))

export const make: Effect.Effect<{ readonly client: KubeClient.Shape; readonly control: MemoryKubeControl }> = Effect
  .gen(
    function*() {
      const state = makeState()
      const faults = new Map<KubeVerb, Array<KubeError>>()
      const throttles = new Map<KubeVerb, Array<Duration.Duration | undefined>>()

      // The verbs are untraced on purpose: a span costs more than the whole verb, and property
      // tests run thousands of them.
      const throttle = (verb: KubeVerb): Effect.Effect<void> =>
        Effect.suspend(() => {
          const queued = throttles.get(verb)
          if (queued === undefined || queued.length === 0) return Effect.void
          const retryAfter = queued.shift()
          return FiberRef.get(throttleObserver).pipe(
            Effect.flatMap((observe) => observe(retryAfter)),
            Effect.zipRight(Effect.sleep(retryAfter ?? Duration.millis(250)))
          )
        })
      const fault = (verb: KubeVerb): Effect.Effect<void, KubeError> =>
        throttle(verb).pipe(Effect.zipRight(Effect.suspend(() => {
          const error = faults.get(verb)?.shift()
          return error === undefined ? Effect.void : Effect.fail(error)
        })))

      const discover = fault("discover").pipe(
        Effect.zipRight(Effect.sync(() => discovery(state.registry)))
      )

      const listPages = (gvr: GroupVersionResource, options: ListOptions = {}) =>
        Stream.paginateEffect(undefined as string | undefined, (token) =>
          fault("list").pipe(
            Effect.zipRight(atomically(() => listPage(state, gvr, options, token))),
            Effect.map((page) =>
              [
                { items: page.items, resourceVersion: page.resourceVersion },
                Option.fromNullable(page.continue)
              ] as const
            )
          ))

      const get = Effect.fnUntraced(function*(gvr: GroupVersionResource, name: string, namespace?: string) {
        yield* fault("get")
        return yield* atomically(() => getObject(state, gvr, name, namespace))
      })

      const create = Effect.fnUntraced(
        function*(gvr: GroupVersionResource, object: KubeObject, options?: WriteOptions) {
          yield* fault("create")
          const now = yield* Clock.currentTimeMillis
          return yield* atomically(() => createObject(state, gvr, object, options?.dryRun ?? false, now))
        }
      )

      const update = Effect.fnUntraced(
        function*(gvr: GroupVersionResource, object: KubeObject, options?: WriteOptions) {
          yield* fault("update")
          return yield* atomically(() => updateObject(state, gvr, object, "main", options?.dryRun ?? false))
        }
      )

      const updateStatus = Effect.fnUntraced(function*(gvr: GroupVersionResource, object: KubeObject) {
        yield* fault("updateStatus")
        return yield* atomically(() => updateObject(state, gvr, object, "status", false))
      })

      const patch = Effect.fnUntraced(
        function*(gvr: GroupVersionResource, name: string, body: Patch, namespace?: string, options?: WriteOptions) {
          yield* fault("patch")
          return yield* atomically(() =>
            patchObject(state, gvr, name, body, namespace, "main", options?.dryRun ?? false)
          )
        }
      )

      const patchStatus = Effect.fnUntraced(
        function*(gvr: GroupVersionResource, name: string, body: Patch, namespace?: string) {
          yield* fault("patchStatus")
          return yield* atomically(() => patchObject(state, gvr, name, body, namespace, "status", false))
        }
      )

      // Dependents are not garbage-collected: propagationPolicy has no effect here.
      const remove = Effect.fnUntraced(
        function*(gvr: GroupVersionResource, name: string, namespace?: string, options?: DeleteOptions) {
          yield* fault("delete")
          const now = yield* Clock.currentTimeMillis
          return yield* atomically(() => deleteObject(state, gvr, name, namespace, options?.dryRun ?? false, now))
        }
      )

      const watch = (gvr: GroupVersionResource, options: WatchOptions = {}): Stream.Stream<WatchEvent, KubeError> =>
        Stream.unwrapScoped(Effect.gen(function*() {
          yield* fault("watch")
          const queue = yield* Queue.unbounded<WatchEvent>()
          // Registering and replaying in one step: no change falls between history and live events.
          const started = yield* Effect.acquireRelease(
            atomically(() => startWatch(state, gvr, options, (event) => Queue.unsafeOffer(queue, event))),
            (start) => Effect.sync(() => start.stop())
          )
          return Stream.concat(Stream.fromIterable(started.replay), Stream.fromQueue(queue))
        }))

      const client: KubeClient.Shape = {
        discover,
        listPages,
        get,
        create,
        update,
        updateStatus,
        patch,
        patchStatus,
        delete: remove,
        watch
      }

      const seed = Effect.fnUntraced(function*(objects: ReadonlyArray<KubeObject>) {
        const created: Array<KubeObject> = []
        for (const object of objects) {
          const gvr = byApiVersionKind(state.registry, object.apiVersion, object.kind)
          if (gvr === undefined) {
            return yield* new KubeNotFound({
              resource: object.kind,
              message: `no resource serves ${object.apiVersion} ${object.kind}`
            })
          }
          const namespace = object.metadata.namespace
          if (namespace !== undefined && namespace !== "") {
            yield* get(NAMESPACES, namespace).pipe(
              Effect.catchTag(
                "KubeNotFound",
                () => create(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } })
              )
            )
          }
          created.push(yield* create(gvr, object))
        }
        return created
      })

      const control: MemoryKubeControl = {
        currentRevision: Effect.sync(() => String(state.store.revision)),
        compact: (revision) =>
          Effect.suspend(() => {
            const target = revision === undefined ? state.store.revision : Number(revision)
            if (!Number.isSafeInteger(target) || target < 0 || target > state.store.revision) {
              return Effect.fail(new KubeInvalid({ resource: "", message: `cannot compact at revision ${revision}` }))
            }
            compactStore(state.store, target)
            return Effect.void
          }),
        failNext: (verb, error) =>
          Effect.sync(() => {
            const queued = faults.get(verb) ?? []
            queued.push(error)
            faults.set(verb, queued)
          }),
        throttleNext: (verb, retryAfter) =>
          Effect.sync(() => {
            const queued = throttles.get(verb) ?? []
            queued.push(retryAfter)
            throttles.set(verb, queued)
          }),
        failDiscovery: (groupVersion, message) =>
          Effect.sync(() => void state.registry.failedGroups.set(groupVersion, message)),
        seed,
        watchers: Effect.sync(() => state.watchers.size)
      }

      for (const name of INITIAL_NAMESPACES) {
        yield* create(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name } }).pipe(Effect.orDie)
      }
      return { client, control }
    }
  )

export const layer: Layer.Layer<KubeClient | MemoryKube> = Layer.effectContext(
  make.pipe(
    Effect.map(({ client, control }) => Context.make(KubeClient, client).pipe(Context.add(MemoryKube, control)))
  )
)
