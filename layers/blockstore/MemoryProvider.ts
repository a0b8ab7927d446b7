// A BlockStoreProvider for tests: one in-memory BlockStore per VolumeSnapshotLocation name,
// whatever the provider, each with its MemoryBlockStore handle for seeding and inspection.
import { Context, Effect, Layer } from "effect"

import type { BlockStore } from "../../services/BlockStore.ts"
import type { SnapshotLocation } from "../../services/BlockStoreProvider.ts"
import { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import { LocationError } from "../../services/ObjectStoreProvider.ts"
import type { MemoryBlockStore, MemoryBlockStoreConfig } from "./Memory.ts"
import * as MemoryBlockStoreLayer from "./Memory.ts"

export interface MemoryLocationStore {
  readonly store: BlockStore.Shape
  readonly control: MemoryBlockStore["Type"]
}

/** Test handle on the stores behind the provider. */
export interface MemoryBlockStoresControl {
  /** The store of a location name, created (with the layer's seed volumes) on first use. */
  readonly location: (name: string) => Effect.Effect<MemoryLocationStore>
  /** `forLocation` fails for this location name, like an unreadable credential. */
  readonly rejectLocation: (name: string, message: string) => Effect.Effect<void>
  /** Location names whose store has been created, in creation order. */
  readonly locations: Effect.Effect<ReadonlyArray<string>>
}

export class MemoryBlockStores
  extends Context.Tag("ark/MemoryBlockStores")<MemoryBlockStores, MemoryBlockStoresControl>()
{}

export interface MemoryBlockStoreProviderConfig {
  /** Volumes that exist from the start, per location name. */
  readonly volumes?: Readonly<Record<string, MemoryBlockStoreConfig["volumes"]>>
}

export const make = (
  config: MemoryBlockStoreProviderConfig = {}
): Effect.Effect<{ readonly provider: BlockStoreProvider.Shape; readonly control: MemoryBlockStoresControl }> =>
  Effect.sync(() => {
    const stores = new Map<string, MemoryLocationStore>()
    const rejected = new Map<string, string>()

    const location = (name: string) =>
      Effect.suspend(() => {
        const existing = stores.get(name)
        if (existing !== undefined) return Effect.succeed(existing)
        const volumes = config.volumes?.[name]
        return MemoryBlockStoreLayer.make(volumes === undefined ? {} : { volumes }).pipe(
          // A concurrent first use may have won: everyone gets the first store.
          Effect.map((created) => {
            const raced = stores.get(name)
            if (raced !== undefined) return raced
            stores.set(name, created)
            return created
          })
        )
      })

    const forLocation = (snapshotLocation: SnapshotLocation) =>
      Effect.suspend(() => {
        const name = snapshotLocation.metadata.name ?? ""
        const reason = rejected.get(name)
        return reason === undefined
          ? location(name).pipe(Effect.map((created) => created.store))
          : Effect.fail(new LocationError({ location: name, message: reason }))
      })

    const control: MemoryBlockStoresControl = {
      location,
      rejectLocation: (name, message) => Effect.sync(() => void rejected.set(name, message)),
      locations: Effect.sync(() => [...stores.keys()])
    }
    return { provider: { forLocation }, control }
  })

export const layer = (
  config: MemoryBlockStoreProviderConfig = {}
): Layer.Layer<BlockStoreProvider | MemoryBlockStores> =>
  Layer.effectContext(
    make(config).pipe(
      Effect.map(({ control, provider }) =>
        Context.make(BlockStoreProvider, provider).pipe(Context.add(MemoryBlockStores, control))
      )
    )
  )
