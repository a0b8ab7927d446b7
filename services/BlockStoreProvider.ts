import type { Effect } from "effect"
import { Context } from "effect"

import type { BlockStore } from "./BlockStore.ts"
import type { LocationError } from "./ObjectStoreProvider.ts"

/**
 * What a provider reads of a VolumeSnapshotLocation. The decoded `VolumeSnapshotLocation` of
 * `src/api` fits it; the port keeps its own shape so services/ depends on nothing in src/.
 */
export interface SnapshotLocation {
  readonly metadata: {
    readonly name?: string
    /** The server namespace: where the credential Secret lives. */
    readonly namespace?: string
    readonly uid?: string
    readonly generation?: number
  }
  readonly spec: {
    readonly provider: string
    readonly config?: Readonly<Record<string, string>>
    readonly credential?: { readonly name: string; readonly key: string }
  }
}

/** Turns a VolumeSnapshotLocation into the BlockStore it names (EBS, local directories, memory). */
export class BlockStoreProvider extends Context.Tag("ark/BlockStoreProvider")<
  BlockStoreProvider,
  BlockStoreProvider.Shape
>() {}

export declare namespace BlockStoreProvider {
  export interface Shape {
    /** The block store of this location; the same location (uid and generation) gets the same store. */
    readonly forLocation: (location: SnapshotLocation) => Effect.Effect<BlockStore.Shape, LocationError>
  }
}
