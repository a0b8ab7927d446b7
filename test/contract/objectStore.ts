// Behaviours every ObjectStore adapter must share, run against Memory and Filesystem in unit
// tests and against S3 (MinIO) in integration, so the fakes cannot drift from the real store.
import { randomUUID } from "node:crypto"
import { readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"

import { assert, describe, it } from "@effect/vitest"
import type { Layer } from "effect"
import { Chunk, Clock, Data, Duration, Effect, Option, Schedule, Stream } from "effect"

import { ObjectStore } from "../../services/ObjectStore.ts"

class BodyBroke extends Data.TaggedError("BodyBroke")<{ readonly at: number }> {}

/** Deterministic bytes in chunks of uneven sizes, so chunk boundaries get exercised. */
export const patternedChunks = (chunkCount: number, seed = 7): Array<Uint8Array> =>
  Array.from({ length: chunkCount }, (_, i) => {
    const chunk = new Uint8Array(1000 + ((i * 7919 + seed) % 9000))
    for (let j = 0; j < chunk.length; j++) chunk[j] = (i * 31 + j * seed) & 0xff
    return chunk
  })

export const concatBytes = (chunks: Iterable<Uint8Array>): Uint8Array => {
  const list = [...chunks]
  const out = new Uint8Array(list.reduce((n, c) => n + c.length, 0))
  let offset = 0
  for (const c of list) {
    out.set(c, offset)
    offset += c.length
  }
  return out
}

const text = (s: string): Stream.Stream<Uint8Array> => Stream.make(new TextEncoder().encode(s))

const readAll = (store: ObjectStore.Shape, key: string) =>
  Stream.runCollect(store.get(key)).pipe(Effect.map((chunks) => concatBytes(Chunk.toReadonlyArray(chunks))))

const readText = (store: ObjectStore.Shape, key: string) =>
  readAll(store, key).pipe(Effect.map((bytes) => new TextDecoder().decode(bytes)))

/** Fetches a signed URL the way its consumer would: HTTP(S) with plain fetch, file URLs from disk. */
const fetchSigned = (url: string): Effect.Effect<Uint8Array | undefined> =>
  Effect.promise(async () => {
    if (url.startsWith("http://") || url.startsWith("https://")) {
      const response = await fetch(url)
      if (!response.ok) throw new Error(`GET ${url}: ${response.status}`)
      return new Uint8Array(await response.arrayBuffer())
    }
    if (url.startsWith("file://")) return new Uint8Array(await readFile(fileURLToPath(url)))
    return undefined
  })

/** Deletes `key` again and again until it is gone, within `deadline`: a retention has to pass first. */
export const deleteOnceReleased = (store: ObjectStore.Shape, key: string, deadline: Duration.DurationInput) =>
  store.delete(key).pipe(
    Effect.retry(Schedule.spaced("250 millis")),
    Effect.timeoutFail({ duration: deadline, onTimeout: () => new Error(`${key} still retained after the deadline`) })
  )

export interface ContractOptions {
  /** The store honours `retention` on put (S3 Object Lock); others must refuse it. */
  readonly retains?: boolean
}

export const objectStoreContract = <E>(
  name: string,
  layer: Layer.Layer<ObjectStore, E>,
  options: ContractOptions = {}
): void => {
  describe(`ObjectStore contract: ${name}`, () => {
    // Live clock: real stores retry with real backoff. Each test works under its own key space
    // so runs against a shared bucket never see each other.
    const withStore = <A, E2>(body: (store: ObjectStore.Shape, base: string) => Effect.Effect<A, E2>) =>
      Effect.gen(function*() {
        const store = yield* ObjectStore
        return yield* body(store, `contract-${randomUUID()}`)
      }).pipe(Effect.provide(layer))

    it.live("streams a multi-chunk put back out byte for byte", () =>
      withStore((store, base) =>
        Effect.gen(function*() {
          const chunks = patternedChunks(40)
          const key = `${base}/backups/b1/b1.tar.gz`
          yield* store.put(key, Stream.fromIterable(chunks))
          const back = yield* readAll(store, key)
          assert.deepStrictEqual(back, concatBytes(chunks))
        })
      ))

    it.live("an overwrite replaces the whole object, and an empty body is an empty object", () =>
      withStore((store, base) =>
        Effect.gen(function*() {
          const key = `${base}/a.json`
          yield* store.put(key, Stream.fromIterable(patternedChunks(5)))
          yield* store.put(key, text("short"))
          assert.strictEqual(yield* readText(store, key), "short")
          yield* store.put(`${base}/empty`, Stream.empty)
          assert.strictEqual((yield* readAll(store, `${base}/empty`)).length, 0)
          assert.isTrue(yield* store.exists(`${base}/empty`))
        })
      ))

    it.live("a body that fails leaves no object and keeps the previous one intact", () =>
      withStore((store, base) =>
        Effect.gen(function*() {
          const key = `${base}/x/obj`
          const broken = Stream.fromIterable(patternedChunks(3)).pipe(
            Stream.concat(Stream.fail(new BodyBroke({ at: 3 })))
          )
          const error = yield* Effect.flip(store.put(key, broken))
          assert.deepStrictEqual(error, new BodyBroke({ at: 3 }))
          assert.isFalse(yield* store.exists(key))
          assert.deepStrictEqual((yield* store.list(`${base}/`)).objects, [])

          yield* store.put(key, text("old"))
          yield* Effect.flip(store.put(key, broken))
          assert.strictEqual(yield* readText(store, key), "old")
        })
      ))

    it.live("exists follows put and delete", () =>
      withStore((store, base) =>
        Effect.gen(function*() {
          const key = `${base}/ns/thing.json`
          assert.isFalse(yield* store.exists(key))
          yield* store.put(key, text("{}"))
          assert.isTrue(yield* store.exists(key))
          // A "directory" of keys is not an object.
          assert.isFalse(yield* store.exists(`${base}/ns`))
          yield* store.delete(key)
          assert.isFalse(yield* store.exists(key))
        })
      ))

    it.live("get of a missing key fails with ObjectNotFound", () =>
      withStore((store, base) =>
        Effect.gen(function*() {
          const key = `${base}/nope/missing.tar.gz`
          const error = yield* Effect.flip(Stream.runDrain(store.get(key)))
          assert.strictEqual(error._tag, "ObjectNotFound")
          if (error._tag === "ObjectNotFound") assert.strictEqual(error.key, key)
        })
      ))

    it.live("deleting a missing key succeeds; a deleted key is gone", () =>
      withStore((store, base) =>
        Effect.gen(function*() {
          yield* store.delete(`${base}/never-written`)
          yield* store.put(`${base}/k`, text("v"))
          yield* store.delete(`${base}/k`)
          yield* store.delete(`${base}/k`)
          const error = yield* Effect.flip(Stream.runDrain(store.get(`${base}/k`)))
          assert.strictEqual(error._tag, "ObjectNotFound")
        })
      ))

    it.live("list without a delimiter returns every key under the prefix, sorted, with sizes", () =>
      withStore((store, base) =>
        Effect.gen(function*() {
          const keys = [
            `${base}/b/3`,
            `${base}/a/2`,
            `${base}/ab`,
            `${base}/a/1`,
            `${base}/a/deep/er/4`,
            `${base}x/other`
          ]
          yield* Effect.forEach(keys, (key) => store.put(key, text(key)), { discard: true })
          const all = yield* store.list(`${base}/`)
          assert.deepStrictEqual(all.objects.map((o) => o.key), [
            `${base}/a/1`,
            `${base}/a/2`,
            `${base}/a/deep/er/4`,
            `${base}/ab`,
            `${base}/b/3`
          ])
          assert.deepStrictEqual(all.prefixes, [])
          assert.deepStrictEqual(
            all.objects.map((o) => o.size),
            all.objects.map((o) => new TextEncoder().encode(o.key).length)
          )
          for (const o of all.objects) {
            assert.isTrue(o.lastModified instanceof Date && !Number.isNaN(o.lastModified.getTime()))
          }
          // A prefix is a string prefix, not a directory.
          const a = yield* store.list(`${base}/a`)
          assert.deepStrictEqual(a.objects.map((o) => o.key), [
            `${base}/a/1`,
            `${base}/a/2`,
            `${base}/a/deep/er/4`,
            `${base}/ab`
          ])
          const none = yield* store.list(`${base}/zzz/`)
          assert.deepStrictEqual(none, { objects: [], prefixes: [] })
        })
      ))

    it.live("list with delimiter '/' folds deeper keys into common prefixes", () =>
      withStore((store, base) =>
        Effect.gen(function*() {
          const keys = [
            `${base}/backups/b1/ark-backup.json`,
            `${base}/backups/b1/b1.tar.gz`,
            `${base}/backups/b2/b2.tar.gz`,
            `${base}/backups/top`,
            `${base}/restores/r1/log.gz`
          ]
          yield* Effect.forEach(keys, (key) => store.put(key, text("x")), { discard: true })
          const top = yield* store.list(`${base}/`, { delimiter: "/" })
          assert.deepStrictEqual(top.objects, [])
          assert.deepStrictEqual(top.prefixes, [`${base}/backups/`, `${base}/restores/`])
          const backups = yield* store.list(`${base}/backups/`, { delimiter: "/" })
          assert.deepStrictEqual(backups.objects.map((o) => o.key), [`${base}/backups/top`])
          assert.deepStrictEqual(backups.prefixes, [`${base}/backups/b1/`, `${base}/backups/b2/`])
          const b1 = yield* store.list(`${base}/backups/b1/`, { delimiter: "/" })
          assert.deepStrictEqual(b1.objects.map((o) => o.key), [
            `${base}/backups/b1/ark-backup.json`,
            `${base}/backups/b1/b1.tar.gz`
          ])
          assert.deepStrictEqual(b1.prefixes, [])
        })
      ))

    it.live("a signed URL serves the object; a missing key has none", () =>
      withStore((store, base) =>
        Effect.gen(function*() {
          const key = `${base}/backups/b1/b1-logs.gz`
          const chunks = patternedChunks(4)
          yield* store.put(key, Stream.fromIterable(chunks))
          const url = yield* store.signedUrl(key, Duration.decode("10 minutes"))
          assert.isTrue(url.length > 0)
          const fetched = yield* fetchSigned(url)
          if (fetched === undefined) {
            // A scheme nothing outside the process can fetch (the in-memory fake): it must still name the object.
            assert.include(url, key.split("/").pop() ?? key)
          } else {
            assert.deepStrictEqual(fetched, concatBytes(chunks))
          }
          const error = yield* Effect.flip(store.signedUrl(`${base}/missing`, Duration.decode("1 minute")))
          assert.strictEqual(error._tag, "ObjectNotFound")
        })
      ))

    it.live("an object written without retention has none; a missing key is not found", () =>
      withStore((store, base) =>
        Effect.gen(function*() {
          yield* store.put(`${base}/plain`, text("v"))
          assert.isTrue(Option.isNone(yield* store.retention(`${base}/plain`)))
          const error = yield* Effect.flip(store.retention(`${base}/missing`))
          assert.strictEqual(error._tag, "ObjectNotFound")
        })
      ))

    if (options.retains === true) {
      for (const mode of ["GOVERNANCE", "COMPLIANCE"] as const) {
        it.live(
          `a ${mode} retention is recorded and refuses deletion until it passes`,
          () =>
            withStore((store, base) =>
              Effect.gen(function*() {
                const key = `${base}/backups/b1/b1.tar.gz`
                const chunks = patternedChunks(6)
                // Whole seconds: S3 keeps retention dates to the second.
                const retainUntil = new Date((Math.floor((yield* Clock.currentTimeMillis) / 1000) + 4) * 1000)
                yield* store.put(key, Stream.fromIterable(chunks), { retention: { mode, retainUntil } })
                assert.deepStrictEqual(yield* store.retention(key), Option.some({ mode, retainUntil }))

                const refused = yield* Effect.flip(store.delete(key))
                assert.strictEqual(refused._tag, "ObjectStoreError")
                assert.isTrue(yield* store.exists(key))
                assert.deepStrictEqual(yield* readAll(store, key), concatBytes(chunks))

                yield* deleteOnceReleased(store, key, "60 seconds")
                assert.isFalse(yield* store.exists(key))
                assert.deepStrictEqual((yield* store.list(`${base}/`)).objects, [])
              })
            ),
          { timeout: 90_000 }
        )
      }
    } else {
      it.live("a put asking for retention is refused and writes nothing", () =>
        withStore((store, base) =>
          Effect.gen(function*() {
            const key = `${base}/retained`
            const error = yield* Effect.flip(
              store.put(key, text("v"), { retention: { mode: "GOVERNANCE", retainUntil: new Date(4_102_444_800_000) } })
            )
            assert.strictEqual(error._tag, "ObjectStoreError")
            assert.isFalse(yield* store.exists(key))
          })
        ))
    }
  })
}
