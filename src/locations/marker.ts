// The location marker: `<prefix>/ark-location.json`, a random id Ark writes once into each prefix it
// uses (docs/design.md, "Object-storage sync"). A prefix is recognised by its marker, not only by its
// name: sync prunes a Backup only when the prefix the location points at carries the marker the
// Backup was stored under, so a location re-pointed at any other prefix prunes nothing.
import { Effect, Either, Option, Random, Schema, Stream } from "effect"

import type { ObjectStore, ObjectStoreError } from "../../services/ObjectStore.ts"
import type { BackupStorageLocation, StorageIdentity } from "../api/index.ts"

export const locationMarkerKey = "ark-location.json"

const Marker = Schema.parseJson(Schema.Struct({ id: Schema.NonEmptyString }))
const decodeMarker = Schema.decodeUnknownEither(Marker)

/** The marker id of the store's prefix; none when there is no marker or it does not decode. */
export const readMarker = (store: ObjectStore.Shape): Effect.Effect<Option.Option<string>, ObjectStoreError> =>
  store.get(locationMarkerKey).pipe(
    Stream.decodeText(),
    Stream.mkString,
    Effect.map((text) => Either.getRight(decodeMarker(text)).pipe(Option.map((marker) => marker.id))),
    Effect.catchTag("ObjectNotFound", () => Effect.succeed(Option.none()))
  )

/** 128 random bits in hex, from Effect's Random (so tests can seed it). */
const newMarkerId = Effect.map(
  Effect.all(Array.from({ length: 8 }, () => Random.nextIntBetween(0, 0x10000))),
  (parts) => parts.map((part) => part.toString(16).padStart(4, "0")).join("")
)

/**
 * The prefix's marker id, written first when the prefix has none. Read back after writing: when two
 * writers race, both end up with the id that was stored last.
 */
export const ensureMarker = (store: ObjectStore.Shape): Effect.Effect<Option.Option<string>, ObjectStoreError> =>
  Effect.gen(function*() {
    const existing = yield* readMarker(store)
    if (Option.isSome(existing)) return existing
    const id = yield* newMarkerId
    yield* store.put(locationMarkerKey, Stream.make(new TextEncoder().encode(JSON.stringify({ id }))))
    return yield* readMarker(store)
  })

/** The prefix as an identity compares it: without leading or trailing slashes. */
export const normalizedPrefix = (prefix: string | undefined): string => (prefix ?? "").replace(/^\/+|\/+$/g, "")

/** The identity of what the location points at now, given its prefix's marker id. */
export const storageIdentityOf = (location: BackupStorageLocation, marker: string): StorageIdentity => ({
  bucket: location.spec.objectStorage.bucket,
  prefix: normalizedPrefix(location.spec.objectStorage.prefix),
  marker
})

export const describeIdentity = (identity: StorageIdentity): string =>
  `bucket ${identity.bucket}${identity.prefix === "" ? "" : ` prefix ${identity.prefix}`} (marker ${identity.marker})`

export const sameIdentity = (a: StorageIdentity, b: StorageIdentity): boolean =>
  a.bucket === b.bucket && a.prefix === b.prefix && a.marker === b.marker
