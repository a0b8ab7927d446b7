import * as NodePath from "node:path"
import { pathToFileURL } from "node:url"

import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import type { Duration } from "effect"
import { Effect, Layer, Option, Random, Sink, Stream } from "effect"

import type { PutOptions } from "../../services/ObjectStore.ts"
import { ObjectNotFound, ObjectStore, ObjectStoreError } from "../../services/ObjectStore.ts"
import { groupListing, joinKey } from "./listing.ts"

export interface FilesystemObjectStoreConfig {
  /** The directory that stands in for the object storage service. */
  readonly root: string
  /** Becomes a directory under `root`. */
  readonly bucket?: string
  /** Becomes directories under the bucket. */
  readonly prefix?: string
}

/** In-flight uploads live beside their target under this marker and are never listed. */
const PARTIAL_MARKER = ".ark-partial-"

const isNotFound = (error: PlatformError): boolean => error._tag === "SystemError" && error.reason === "NotFound"

const storeError = (operation: string, key: string) => (error: PlatformError) =>
  new ObjectStoreError({ operation, key, message: error.message, retryable: false, cause: error })

/** Keys map onto paths, so a key must not climb out of the store's directory. */
const checkKey = (operation: string, key: string): Effect.Effect<ReadonlyArray<string>, ObjectStoreError> => {
  const segments = key.split("/")
  const bad = key === "" || key.startsWith("/") || key.includes("\\") || key.includes("\0") ||
    segments.some((segment) => segment === ".." || segment === "." || segment === "") ||
    segments.some((segment) => segment.includes(PARTIAL_MARKER))
  return bad
    ? Effect.fail(
      new ObjectStoreError({ operation, key, message: `invalid object key ${JSON.stringify(key)}`, retryable: false })
    )
    : Effect.succeed(segments)
}

export const make = (
  config: FilesystemObjectStoreConfig
): Effect.Effect<ObjectStore.Shape, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const base = NodePath.resolve(
      config.root,
      ...(config.bucket ? [config.bucket] : []),
      ...(config.prefix ?? "").split("/").filter((s) => s !== "")
    )

    const pathOf = (operation: string, key: string) =>
      checkKey(operation, key).pipe(Effect.map((segments) => NodePath.join(base, ...segments)))

    const put = <E>(key: string, body: Stream.Stream<Uint8Array, E>, options?: PutOptions) =>
      Effect.gen(function*() {
        const target = yield* pathOf("put", key)
        if (options?.retention !== undefined) {
          return yield* new ObjectStoreError({
            operation: "put",
            key,
            message: "a filesystem store cannot retain objects (S3 Object Lock needs provider aws)",
            retryable: false
          })
        }
        const dir = NodePath.dirname(target)
        const suffix = (yield* Random.nextInt).toString(36).replace("-", "")
        const partial = NodePath.join(dir, `${PARTIAL_MARKER}${NodePath.basename(target)}-${suffix}`)
        yield* fs.makeDirectory(dir, { recursive: true }).pipe(Effect.mapError(storeError("put", key)))
        const sink = fs.sink(partial).pipe(Sink.mapError(storeError("put", key)))
        // Written aside and renamed: a reader sees the old object or the whole new one.
        yield* Stream.run(body, sink).pipe(
          Effect.zipRight(fs.rename(partial, target).pipe(Effect.mapError(storeError("put", key)))),
          Effect.onExit((exit) => exit._tag === "Success" ? Effect.void : fs.remove(partial).pipe(Effect.ignore))
        )
      }).pipe(Effect.withSpan("FilesystemObjectStore.put", { attributes: { key } }))

    const get = (key: string): Stream.Stream<Uint8Array, ObjectNotFound | ObjectStoreError> =>
      Stream.unwrap(
        Effect.gen(function*() {
          const path = yield* pathOf("get", key)
          const info = yield* fs.stat(path).pipe(
            Effect.mapError((error) => isNotFound(error) ? new ObjectNotFound({ key }) : storeError("get", key)(error))
          )
          if (info.type !== "File") return yield* new ObjectNotFound({ key })
          return fs.stream(path).pipe(
            Stream.mapError((error) => isNotFound(error) ? new ObjectNotFound({ key }) : storeError("get", key)(error))
          )
        })
      )

    const exists = (key: string) =>
      Effect.gen(function*() {
        const path = yield* pathOf("exists", key)
        return yield* fs.stat(path).pipe(
          Effect.map((info) => info.type === "File"),
          Effect.catchIf(isNotFound, () => Effect.succeed(false)),
          Effect.mapError(storeError("exists", key))
        )
      })

    // Nothing here is ever retained: put refuses retention.
    const retention = (key: string) =>
      exists(key).pipe(
        Effect.flatMap((found) => found ? Effect.succeed(Option.none()) : Effect.fail(new ObjectNotFound({ key })))
      )

    // Walks only the directory that can hold keys with this prefix.
    const list = Effect.fn("FilesystemObjectStore.list")(
      function*(prefix: string, options?: { readonly delimiter?: string }) {
        const slash = prefix.lastIndexOf("/")
        const dirKey = slash >= 0 ? prefix.slice(0, slash) : ""
        const segments = dirKey === "" ? [] : dirKey.split("/")
        if (segments.some((segment) => segment === ".." || segment === "." || segment === "")) {
          return { objects: [], prefixes: [] }
        }
        const start = NodePath.join(base, ...segments)
        const entries = yield* fs.readDirectory(start, { recursive: true }).pipe(
          Effect.catchIf(isNotFound, () => Effect.succeed<Array<string>>([])),
          Effect.mapError(storeError("list", prefix))
        )
        const objects = yield* Effect.forEach(
          entries.filter((entry) => !NodePath.basename(entry).startsWith(PARTIAL_MARKER)),
          (entry) => {
            const key = joinKey(dirKey, entry.split(NodePath.sep).join("/"))
            if (!key.startsWith(prefix)) return Effect.succeed(Option.none())
            return fs.stat(NodePath.join(start, entry)).pipe(
              Effect.map((info) =>
                info.type === "File"
                  ? Option.some({
                    key,
                    size: Number(info.size),
                    lastModified: Option.getOrElse(info.mtime, () => new Date(0))
                  })
                  : Option.none()
              ),
              // Deleted between the walk and the stat.
              Effect.catchIf(isNotFound, () => Effect.succeed(Option.none())),
              Effect.mapError(storeError("list", prefix))
            )
          },
          { concurrency: 16 }
        )
        return groupListing(prefix, objects.flatMap((object) => Option.toArray(object)), options?.delimiter)
      }
    )

    const remove = (key: string) =>
      pathOf("delete", key).pipe(
        Effect.flatMap((path) =>
          fs.remove(path).pipe(
            Effect.catchIf(isNotFound, () => Effect.void),
            Effect.mapError(storeError("delete", key))
          )
        )
      )

    // A plain file URL: the filesystem store has no credentials to protect.
    const signedUrl = (key: string, _expiresIn: Duration.Duration) =>
      Effect.gen(function*() {
        const path = yield* pathOf("signedUrl", key)
        const found = yield* exists(key)
        if (!found) return yield* new ObjectNotFound({ key })
        return pathToFileURL(path).href
      })

    return { put, get, exists, list, retention, delete: remove, signedUrl } satisfies ObjectStore.Shape
  })

export const layer = (config: FilesystemObjectStoreConfig): Layer.Layer<ObjectStore> =>
  Layer.effect(ObjectStore, make(config)).pipe(Layer.provide(NodeFileSystem.layer))
