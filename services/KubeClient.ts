import type { Duration, Stream } from "effect"
import { Context, Data, Effect, FiberRef } from "effect"

/** A resource type as the API server names it: `deployments` in `apps/v1`. The core group is "". */
export interface GroupVersionResource {
  readonly group: string
  readonly version: string
  readonly resource: string
}

/** One resource type from discovery, in its group's preferred version. */
export interface ApiResource extends GroupVersionResource {
  readonly kind: string
  readonly namespaced: boolean
  readonly verbs: ReadonlyArray<string>
  readonly shortNames: ReadonlyArray<string>
  readonly singularName: string
  /** True when writes to `.status` go through the `/status` subresource only. */
  readonly statusSubresource: boolean
}

export interface Discovery {
  readonly resources: ReadonlyArray<ApiResource>
  /** Group versions whose discovery failed (an unavailable aggregated API, say). */
  readonly failedGroups: ReadonlyArray<{ readonly groupVersion: string; readonly message: string }>
}

export interface ObjectMeta {
  readonly name?: string
  readonly generateName?: string
  readonly namespace?: string
  readonly uid?: string
  readonly resourceVersion?: string
  readonly generation?: number
  readonly creationTimestamp?: string
  readonly deletionTimestamp?: string
  readonly labels?: Readonly<Record<string, string>>
  readonly annotations?: Readonly<Record<string, string>>
  readonly finalizers?: ReadonlyArray<string>
  readonly ownerReferences?: ReadonlyArray<{
    readonly apiVersion: string
    readonly kind: string
    readonly name: string
    readonly uid: string
    readonly controller?: boolean
  }>
  readonly [key: string]: unknown
}

/** Any Kubernetes object, kept as the JSON the API server speaks. */
export interface KubeObject {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: ObjectMeta
  readonly [key: string]: unknown
}

export type ResourceVersionMatch = "Exact" | "NotOlderThan"

export interface ListOptions {
  readonly namespace?: string
  readonly labelSelector?: string
  readonly fieldSelector?: string
  /** Unset: the newest data. With `resourceVersionMatch: "Exact"`: the state at exactly that revision. */
  readonly resourceVersion?: string
  readonly resourceVersionMatch?: ResourceVersionMatch
  /** Page size; the client follows continue tokens until the list is done. */
  readonly limit?: number
}

export interface ListPage {
  readonly items: ReadonlyArray<KubeObject>
  /** The revision this page reflects; every page of one list carries the same one. */
  readonly resourceVersion: string
}

export interface WatchOptions {
  readonly namespace?: string
  readonly labelSelector?: string
  /** Unset or "0": synthetic ADDED events for what exists now, then changes. Otherwise changes after it. */
  readonly resourceVersion?: string
}

export interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"
  readonly object: KubeObject
}

export type Patch =
  | { readonly type: "merge"; readonly body: unknown }
  | { readonly type: "json"; readonly ops: ReadonlyArray<JsonPatchOp> }

export interface JsonPatchOp {
  readonly op: "add" | "remove" | "replace" | "test" | "move" | "copy"
  readonly path: string
  readonly value?: unknown
  readonly from?: string
}

export interface WriteOptions {
  readonly dryRun?: boolean
}

export interface DeleteOptions extends WriteOptions {
  readonly propagationPolicy?: "Foreground" | "Background" | "Orphan"
}

interface KubeErrorFields {
  readonly resource: string
  readonly name?: string
  readonly message: string
}

export class KubeNotFound extends Data.TaggedError("KubeNotFound")<KubeErrorFields> {}
export class KubeAlreadyExists extends Data.TaggedError("KubeAlreadyExists")<KubeErrorFields> {}
/** A write against a stale resourceVersion (409). */
export class KubeConflict extends Data.TaggedError("KubeConflict")<KubeErrorFields> {}
/** The requested revision has been compacted away (410): list or watch again from now. */
export class KubeGone extends Data.TaggedError("KubeGone")<KubeErrorFields> {}
/** The object or the request is invalid (400, 422). */
export class KubeInvalid extends Data.TaggedError("KubeInvalid")<KubeErrorFields> {}
export class KubeForbidden extends Data.TaggedError("KubeForbidden")<KubeErrorFields> {}
/** Throttling, server errors, timeouts and broken connections: worth retrying. */
export class KubeUnavailable extends Data.TaggedError("KubeUnavailable")<
  KubeErrorFields & { readonly status?: number; readonly retryAfter?: Duration.Duration; readonly cause?: unknown }
> {}

export type KubeError =
  | KubeNotFound
  | KubeAlreadyExists
  | KubeConflict
  | KubeGone
  | KubeInvalid
  | KubeForbidden
  | KubeUnavailable

/**
 * Told, in the fiber that sent the request, of each 429 Too Many Requests the API server answers,
 * with its Retry-After if any. The client retries 429s itself, so a caller pacing its own requests
 * (the restore's window) cannot see them in results: it sets this with `Effect.locally`.
 */
export const throttleObserver: FiberRef.FiberRef<(retryAfter: Duration.Duration | undefined) => Effect.Effect<void>> =
  FiberRef.unsafeMake((_retryAfter: Duration.Duration | undefined) => Effect.void)

/** The Kubernetes API: discovery, reads at a revision, writes, and watches. */
export class KubeClient extends Context.Tag("ark/KubeClient")<KubeClient, KubeClient.Shape>() {}

export declare namespace KubeClient {
  export interface Shape {
    readonly discover: Effect.Effect<Discovery, KubeError>
    /** Pages of one consistent list, following continue tokens. */
    readonly listPages: (gvr: GroupVersionResource, options?: ListOptions) => Stream.Stream<ListPage, KubeError>
    readonly get: (gvr: GroupVersionResource, name: string, namespace?: string) => Effect.Effect<KubeObject, KubeError>
    readonly create: (
      gvr: GroupVersionResource,
      object: KubeObject,
      options?: WriteOptions
    ) => Effect.Effect<KubeObject, KubeError>
    /** Replaces the object; a set `metadata.resourceVersion` must match the stored one. */
    readonly update: (
      gvr: GroupVersionResource,
      object: KubeObject,
      options?: WriteOptions
    ) => Effect.Effect<KubeObject, KubeError>
    readonly updateStatus: (gvr: GroupVersionResource, object: KubeObject) => Effect.Effect<KubeObject, KubeError>
    readonly patch: (
      gvr: GroupVersionResource,
      name: string,
      patch: Patch,
      namespace?: string,
      options?: WriteOptions
    ) => Effect.Effect<KubeObject, KubeError>
    readonly patchStatus: (
      gvr: GroupVersionResource,
      name: string,
      patch: Patch,
      namespace?: string
    ) => Effect.Effect<KubeObject, KubeError>
    readonly delete: (
      gvr: GroupVersionResource,
      name: string,
      namespace?: string,
      options?: DeleteOptions
    ) => Effect.Effect<void, KubeError>
    readonly watch: (gvr: GroupVersionResource, options?: WatchOptions) => Stream.Stream<WatchEvent, KubeError>
  }
}
