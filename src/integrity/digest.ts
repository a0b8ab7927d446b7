// The size and SHA-256 of a file as it streams to or from storage: a backup records them for
// every file it writes, in the same pass as the upload, and a reader checks them in its own pass.
import { createHash } from "node:crypto"

import { Effect, Ref, Stream } from "effect"

import type { ObjectStore } from "../../services/ObjectStore.ts"
import { ObjectStoreError } from "../../services/ObjectStore.ts"
import type { StoredFile } from "../api/backup.ts"

export interface Digest {
  readonly size: number
  readonly sha256: string
}

/**
 * Passes `body` through unchanged and calls `done` with its digest once the last byte has gone
 * by. Each run of the stream starts a new hash, so a store that re-reads a body (a retried upload)
 * records the bytes it sent last.
 */
export const digesting = <E, R>(
  body: Stream.Stream<Uint8Array, E, R>,
  done: (digest: Digest) => Effect.Effect<void>
): Stream.Stream<Uint8Array, E, R> =>
  Stream.suspend(() => {
    const hash = createHash("sha256")
    let size = 0
    return body.pipe(
      Stream.map((chunk) => {
        hash.update(chunk)
        size += chunk.length
        return chunk
      }),
      Stream.concat(Stream.execute(Effect.suspend(() => done({ size, sha256: hash.digest("hex") }))))
    )
  })

/** The digest of everything `body` yields. */
export const digestOf = <E, R>(body: Stream.Stream<Uint8Array, E, R>): Effect.Effect<Digest, E, R> =>
  Effect.gen(function*() {
    const result = yield* Ref.make<Digest>({ size: 0, sha256: "" })
    yield* Stream.runDrain(digesting(body, (digest) => Ref.set(result, digest)))
    return yield* Ref.get(result)
  })

/**
 * A store that records the digest of every file written under `dir`, named relative to it. The
 * last complete write of a key wins, as in the store itself.
 */
export const recordingStore = (store: ObjectStore.Shape, dir: string) =>
  Effect.gen(function*() {
    const written = yield* Ref.make(new Map<string, Digest>())
    const recorded: ObjectStore.Shape = {
      ...store,
      put: (key, body) =>
        store.put(
          key,
          key.startsWith(dir)
            ? digesting(body, (digest) => Ref.update(written, (files) => new Map(files).set(key, digest)))
            : body
        )
    }
    const files = Ref.get(written).pipe(
      Effect.map((byKey): ReadonlyArray<StoredFile> =>
        [...byKey].map(([key, digest]) => ({ name: key.slice(dir.length), ...digest }))
          .sort((a, b) => a.name.localeCompare(b.name))
      )
    )
    return { store: recorded, files }
  })

/**
 * A store whose reads of the files in `files` (named relative to `dir`) fail at their end when
 * the bytes are not the ones recorded: a consumer that acts only after a complete first pass (the
 * restore's plan) never acts on a changed file.
 */
export const checkingStore = (store: ObjectStore.Shape, dir: string, files: ReadonlyArray<StoredFile>) => {
  const expected = new Map(files.map((file) => [`${dir}${file.name}`, file]))
  const checked: ObjectStore.Shape = {
    ...store,
    get: (key) => {
      const file = expected.get(key)
      if (file === undefined) return store.get(key)
      return Stream.suspend(() => {
        let actual: Digest = { size: 0, sha256: "" }
        const check = Effect.suspend(() =>
          actual.size === file.size && actual.sha256 === file.sha256
            ? Effect.void
            : Effect.fail(
              new ObjectStoreError({
                operation: "get",
                key,
                retryable: false,
                message:
                  `${file.name} is not the file the backup wrote: ${actual.size} bytes with SHA-256 ${actual.sha256}, ` +
                  `recorded ${file.size} bytes with SHA-256 ${file.sha256}`
              })
            )
        )
        return digesting(store.get(key), (digest) => Effect.sync(() => void (actual = digest))).pipe(
          Stream.concat(Stream.execute(check))
        )
      })
    }
  }
  return checked
}
