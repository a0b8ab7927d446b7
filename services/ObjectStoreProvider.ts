import type { Effect } from "effect"
import { Context, Data } from "effect"

import type { ObjectStore } from "./ObjectStore.ts"

/**
 * What a provider reads of a BackupStorageLocation. The decoded `BackupStorageLocation` of
 * `src/api` fits it; the port keeps its own shape so services/ depends on nothing in src/.
 */
export interface StorageLocation {
  readonly metadata: {
    readonly name?: string
    /** The server namespace: where the credential Secret lives. */
    readonly namespace?: string
    readonly uid?: string
    readonly resourceVersion?: string
    /** Bumped by spec changes only (status writes do not): what a cached store is keyed on. */
    readonly generation?: number
  }
  readonly spec: {
    readonly provider: string
    readonly objectStorage: {
      readonly bucket: string
      readonly prefix?: string
      /** S3 Object Lock: only a store that can retain files, on a bucket that has it, may be built. */
      readonly objectLock?: { readonly mode: string }
    }
    readonly config?: Readonly<Record<string, string>>
    readonly credential?: { readonly name: string; readonly key: string }
  }
}

/** The location cannot be turned into a store: unknown provider, bad config, unreadable credential. */
export class LocationError extends Data.TaggedError("LocationError")<{
  readonly location: string
  readonly message: string
  readonly cause?: unknown
}> {}

/** Turns a BackupStorageLocation into the ObjectStore it names (S3, a directory, memory). */
export class ObjectStoreProvider extends Context.Tag("ark/ObjectStoreProvider")<
  ObjectStoreProvider,
  ObjectStoreProvider.Shape
>() {}

export declare namespace ObjectStoreProvider {
  export interface Shape {
    /** The store of this location; the same location (uid and resourceVersion) gets the same store. */
    readonly forLocation: (location: StorageLocation) => Effect.Effect<ObjectStore.Shape, LocationError>
  }
}
