import type { Duration, Effect, Option, Stream } from "effect"
import { Context, Data } from "effect"

export interface ObjectInfo {
  readonly key: string
  readonly size: number
  readonly lastModified: Date
}

export interface ObjectListing {
  readonly objects: ReadonlyArray<ObjectInfo>
  /** With a delimiter: the distinct key prefixes up to and including the next delimiter. */
  readonly prefixes: ReadonlyArray<string>
}

export class ObjectNotFound extends Data.TaggedError("ObjectNotFound")<{ readonly key: string }> {
  override get message() {
    return `object ${this.key} not found`
  }
}

/** S3 Object Lock: until `retainUntil` the object cannot be deleted (COMPLIANCE: by anyone). */
export interface Retention {
  readonly mode: "GOVERNANCE" | "COMPLIANCE"
  readonly retainUntil: Date
}

export interface PutOptions {
  /** Stores that cannot retain objects refuse the put. */
  readonly retention?: Retention
}

/** Any other storage failure; `retryable` marks throttling, 5xx and broken connections. */
export class ObjectStoreError extends Data.TaggedError("ObjectStoreError")<{
  readonly operation: string
  readonly key: string
  readonly message: string
  readonly retryable: boolean
  readonly cause?: unknown
}> {}

/**
 * One bucket and prefix of object storage. Keys are relative to the prefix and use "/".
 * Writes stream: a body is never required to fit in memory.
 */
export class ObjectStore extends Context.Tag("ark/ObjectStore")<ObjectStore, ObjectStore.Shape>() {}

export declare namespace ObjectStore {
  export interface Shape {
    readonly put: <E>(
      key: string,
      body: Stream.Stream<Uint8Array, E>,
      options?: PutOptions
    ) => Effect.Effect<void, ObjectStoreError | E>
    readonly get: (key: string) => Stream.Stream<Uint8Array, ObjectNotFound | ObjectStoreError>
    readonly exists: (key: string) => Effect.Effect<boolean, ObjectStoreError>
    readonly list: (
      prefix: string,
      options?: { readonly delimiter?: string }
    ) => Effect.Effect<ObjectListing, ObjectStoreError>
    /** The retention the object was written with, passed or not; none when it has none. */
    readonly retention: (key: string) => Effect.Effect<Option.Option<Retention>, ObjectNotFound | ObjectStoreError>
    /** Deleting a missing key succeeds, as in S3; an object under retention is kept and the delete fails. */
    readonly delete: (key: string) => Effect.Effect<void, ObjectStoreError>
    /** A URL that fetches the object without credentials until `expiresIn` passes. */
    readonly signedUrl: (
      key: string,
      expiresIn: Duration.Duration
    ) => Effect.Effect<string, ObjectNotFound | ObjectStoreError>
  }
}
