// Reading BackupStorageLocations from the server namespace, decoded by their Schema.
import { Data, Effect, Either, Schema, Stream } from "effect"

import type { GroupVersionResource, KubeError, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { BackupStorageLocation, formatDecodeError, group, kinds, version } from "../api/index.ts"

export const backupStorageLocationsGvr: GroupVersionResource = {
  group,
  version,
  resource: kinds.BackupStorageLocation.plural
}

export class LocationNotFound extends Data.TaggedError("LocationNotFound")<{
  readonly namespace: string
  readonly name: string
}> {
  override get message() {
    return `backup storage location ${JSON.stringify(this.name)} does not exist in namespace ${this.namespace}`
  }
}

/** The stored resource does not decode: one line per problem. */
export class LocationInvalid extends Data.TaggedError("LocationInvalid")<{
  readonly name: string
  readonly problems: ReadonlyArray<string>
}> {
  override get message() {
    return `backup storage location ${JSON.stringify(this.name)} is invalid: ${this.problems.join("; ")}`
  }
}

const decode = Schema.decodeUnknownEither(BackupStorageLocation)

export const decodeLocation = (object: KubeObject): Either.Either<BackupStorageLocation, LocationInvalid> =>
  Either.mapLeft(
    decode(object),
    (error) => new LocationInvalid({ name: object.metadata.name ?? "", problems: formatDecodeError(error) })
  )

export const getLocation = Effect.fn("Locations.get")(function*(namespace: string, name: string) {
  const kube = yield* KubeClient
  const object = yield* kube.get(backupStorageLocationsGvr, name, namespace).pipe(
    Effect.catchTag("KubeNotFound", () => Effect.fail(new LocationNotFound({ namespace, name })))
  )
  return yield* decodeLocation(object)
})

/** Every location in the namespace as stored; decode each with {@link decodeLocation}. */
export const listLocations = (namespace: string): Effect.Effect<ReadonlyArray<KubeObject>, KubeError, KubeClient> =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const pages = yield* Stream.runCollect(kube.listPages(backupStorageLocationsGvr, { namespace, limit: 500 }))
    return [...pages].flatMap((page) => page.items)
  })
