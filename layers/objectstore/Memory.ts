import type { Chunk, Duration } from "effect"
import { Clock, DateTime, Effect, Layer, Option, Ref, Stream } from "effect"

import type { PutOptions, Retention } from "../../services/ObjectStore.ts"
import { ObjectNotFound, ObjectStore, ObjectStoreError } from "../../services/ObjectStore.ts"
import { groupListing } from "./listing.ts"

export interface MemoryObjectStoreConfig {
  /** Only shapes the signed URLs: `memory://<bucket>/<key>`. */
  readonly bucket?: string
}

interface StoredObject {
  readonly bytes: Uint8Array
  readonly lastModified: Date
  /** Enforced on delete, as S3 Object Lock does. */
  readonly retention?: Retention
}

/** Reads are served in chunks of this size so consumers see a multi-chunk stream, as from S3. */
const READ_CHUNK_BYTES = 64 * 1024

const concatenate = (chunks: Chunk.Chunk<Uint8Array>): Uint8Array => {
  let size = 0
  for (const chunk of chunks) size += chunk.length
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  return bytes
}

const chunked = (bytes: Uint8Array): Array<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  for (let offset = 0; offset < bytes.length; offset += READ_CHUNK_BYTES) {
    chunks.push(bytes.subarray(offset, offset + READ_CHUNK_BYTES))
  }
  return chunks
}

export const make = (config: MemoryObjectStoreConfig = {}): Effect.Effect<ObjectStore.Shape> =>
  Effect.gen(function*() {
    const bucket = config.bucket ?? "memory"
    const objects = yield* Ref.make(new Map<string, StoredObject>())

    const lookup = (key: string) =>
      Ref.get(objects).pipe(
        Effect.flatMap((map) => Option.fromNullable(map.get(key))),
        Effect.mapError(() => new ObjectNotFound({ key }))
      )

    // The object appears only once the whole body has been consumed, like an S3 PUT.
    // An overwrite replaces the retained object here; S3 keeps the old version, which Ark never relies on.
    const put = <E>(key: string, body: Stream.Stream<Uint8Array, E>, options?: PutOptions) =>
      Effect.gen(function*() {
        const bytes = concatenate(yield* Stream.runCollect(body))
        const lastModified = DateTime.toDateUtc(yield* DateTime.now)
        const retention = options?.retention
        yield* Ref.update(
          objects,
          (map) => new Map(map).set(key, { bytes, lastModified, ...(retention === undefined ? {} : { retention }) })
        )
      }).pipe(Effect.withSpan("MemoryObjectStore.put"))

    const get = (key: string) =>
      Stream.unwrap(lookup(key).pipe(Effect.map((object) => Stream.fromIterable(chunked(object.bytes)))))

    const exists = (key: string) => Ref.get(objects).pipe(Effect.map((map) => map.has(key)))

    const list = (prefix: string, options?: { readonly delimiter?: string }) =>
      Ref.get(objects).pipe(
        Effect.map((map) =>
          groupListing(
            prefix,
            [...map].map(([key, object]) => ({ key, size: object.bytes.length, lastModified: object.lastModified })),
            options?.delimiter
          )
        )
      )

    const retention = (key: string) => lookup(key).pipe(Effect.map((object) => Option.fromNullable(object.retention)))

    const remove = Effect.fn("MemoryObjectStore.delete")(function*(key: string) {
      const now = yield* Clock.currentTimeMillis
      const held = (yield* Ref.get(objects)).get(key)?.retention
      if (held !== undefined && held.retainUntil.getTime() > now) {
        return yield* new ObjectStoreError({
          operation: "delete",
          key,
          message: `${key} is retained until ${held.retainUntil.toISOString()} (Object Lock ${held.mode})`,
          retryable: false
        })
      }
      yield* Ref.update(objects, (map) => {
        const next = new Map(map)
        next.delete(key)
        return next
      })
    })

    const signedUrl = Effect.fn("MemoryObjectStore.signedUrl")(function*(key: string, expiresIn: Duration.Duration) {
      yield* lookup(key)
      const now = yield* DateTime.now
      const expires = Math.floor(DateTime.toEpochMillis(DateTime.addDuration(now, expiresIn)) / 1000)
      return `memory://${bucket}/${key.split("/").map(encodeURIComponent).join("/")}?expires=${expires}`
    })

    return { put, get, exists, list, retention, delete: remove, signedUrl } satisfies ObjectStore.Shape
  })

export const layer = (config: MemoryObjectStoreConfig = {}): Layer.Layer<ObjectStore> =>
  Layer.effect(ObjectStore, make(config))
