// VolumeSnapshotLocations of the server namespace and the BlockStores they name.
import { Effect, Either, Schema, Stream } from "effect"

import type { BlockStore } from "../../services/BlockStore.ts"
import type { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { VolumeSnapshotLocation } from "../api/index.ts"
import {
  formatDecodeError,
  group,
  kinds,
  version,
  VolumeSnapshotLocation as VolumeSnapshotLocationSchema
} from "../api/index.ts"

export const volumeSnapshotLocationsGvr: GroupVersionResource = {
  group,
  version,
  resource: kinds.VolumeSnapshotLocation.plural
}

/** A location that opened, with its store. */
export interface SnapshotStore {
  readonly location: string
  readonly store: BlockStore.Shape
}

const decode = Schema.decodeUnknownEither(VolumeSnapshotLocationSchema)

export const decodeSnapshotLocation = (object: KubeObject): Either.Either<VolumeSnapshotLocation, string> =>
  Either.mapLeft(
    decode(object),
    (error) =>
      `volume snapshot location "${object.metadata.name ?? ""}" is invalid: ${formatDecodeError(error).join("; ")}`
  )

/** Every VolumeSnapshotLocation in the namespace as stored, sorted by name. */
export const listSnapshotLocations = (namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const pages = yield* Stream.runCollect(kube.listPages(volumeSnapshotLocationsGvr, { namespace, limit: 500 }))
    return [...pages].flatMap((page) => page.items).sort((a, b) =>
      (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "")
    )
  })

export interface OpenedLocations {
  readonly stores: ReadonlyArray<SnapshotStore>
  /** Named locations that are missing or invalid: validation errors of the backup. */
  readonly problems: ReadonlyArray<string>
  /** Locations that exist but could not be opened: errors of the backup, the others still serve. */
  readonly unavailable: ReadonlyArray<string>
}

/**
 * The stores a backup snapshots through: the named locations in order, or every location in the
 * namespace when none are named.
 */
export const openSnapshotLocations = Effect.fn("Volumes.openLocations")(function*(
  provider: BlockStoreProvider.Shape,
  namespace: string,
  names: ReadonlyArray<string> | undefined
) {
  const objects = yield* listSnapshotLocations(namespace)
  const problems: Array<string> = []
  const chosen: Array<KubeObject> = []
  if (names === undefined || names.length === 0) {
    chosen.push(...objects)
  } else {
    for (const name of names) {
      const found = objects.find((object) => object.metadata.name === name)
      if (found === undefined) {
        problems.push(
          `volumeSnapshotLocations: volume snapshot location "${name}" does not exist in namespace ${namespace}`
        )
      } else chosen.push(found)
    }
  }
  const stores: Array<SnapshotStore> = []
  const unavailable: Array<string> = []
  for (const object of chosen) {
    const decoded = decodeSnapshotLocation(object)
    if (Either.isLeft(decoded)) {
      if (names !== undefined && names.length > 0) problems.push(`volumeSnapshotLocations: ${decoded.left}`)
      else unavailable.push(decoded.left)
      continue
    }
    const name = decoded.right.metadata.name ?? ""
    const opened = yield* provider.forLocation(decoded.right).pipe(Effect.either)
    if (Either.isLeft(opened)) {
      unavailable.push(`volume snapshot location "${name}" cannot be opened: ${opened.left.message}`)
    } else stores.push({ location: name, store: opened.right })
  }
  const result: OpenedLocations = { stores, problems, unavailable }
  return result
})

/** Opens locations by name as records refer to them, each once. */
export const locationOpener = (provider: BlockStoreProvider.Shape, namespace: string) => {
  const cache = new Map<string, Either.Either<BlockStore.Shape, string>>()
  return (name: string) =>
    Effect.gen(function*() {
      const known = cache.get(name)
      if (known !== undefined) return known
      const kube = yield* KubeClient
      const object = yield* kube.get(volumeSnapshotLocationsGvr, name, namespace).pipe(Effect.either)
      const opened: Either.Either<BlockStore.Shape, string> = Either.isLeft(object)
        ? Either.left(
          object.left._tag === "KubeNotFound"
            ? `volume snapshot location "${name}" does not exist in namespace ${namespace}`
            : `volume snapshot location "${name}" cannot be read: ${object.left.message}`
        )
        : yield* Either.match(decodeSnapshotLocation(object.right), {
          onLeft: (problem) => Effect.succeed(Either.left(problem)),
          onRight: (location) =>
            provider.forLocation(location).pipe(
              Effect.map((store) => Either.right(store)),
              Effect.catchAll((error) =>
                Effect.succeed(Either.left(`volume snapshot location "${name}" cannot be opened: ${error.message}`))
              )
            )
        })
      // A read that failed transiently is tried again next time.
      if (Either.isRight(opened) || (Either.isLeft(object) && object.left._tag === "KubeNotFound")) {
        cache.set(name, opened)
      }
      return opened
    })
}
