// The S3 adapter against a real S3-compatible server (MinIO from the test environment).
import { createHash, randomUUID } from "node:crypto"

import { assert, describe, it } from "@effect/vitest"
import { Clock, Config, Duration, Effect, Layer, Option, Redacted, Stream } from "effect"

import * as S3ObjectStore from "../../layers/objectstore/S3.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { deleteOnceReleased, objectStoreContract } from "../contract/objectStore.ts"

/** Fails (never skips) when the environment does not name a server. */
const s3Config = Effect.gen(function*() {
  const s3Url = yield* Config.string("ARK_TEST_S3_URL")
  const bucket = yield* Config.string("ARK_TEST_S3_BUCKET")
  const accessKeyId = yield* Config.string("AWS_ACCESS_KEY_ID")
  const secretAccessKey = yield* Config.redacted("AWS_SECRET_ACCESS_KEY")
  const region = yield* Config.string("AWS_REGION")
  return {
    s3Url,
    bucket,
    region,
    s3ForcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey }
  } satisfies S3ObjectStore.S3ObjectStoreConfig
})

const s3Layer = (prefix?: string, locked = false) =>
  Layer.unwrapEffect(
    (locked
      ? Effect.zipWith(
        s3Config,
        Config.string("ARK_TEST_S3_LOCKED_BUCKET"),
        (config, bucket) => ({ ...config, bucket, objectLock: true })
      )
      : s3Config).pipe(
        Effect.orDieWith((error) =>
          new Error(
            `S3 integration tests need ARK_TEST_S3_URL, ARK_TEST_S3_BUCKET, ARK_TEST_S3_LOCKED_BUCKET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION: ${error}`
          )
        ),
        Effect.map((config) => S3ObjectStore.layer(prefix === undefined ? config : { ...config, prefix }))
      )
  )

objectStoreContract("S3", s3Layer())
objectStoreContract("S3 with a store prefix", s3Layer(`ark-it-${randomUUID()}/cluster-a`))
// The bucket with Object Lock: retention is honoured, deletes remove every version.
objectStoreContract("S3 with Object Lock", s3Layer(`ark-it-${randomUUID()}/locked`, true), { retains: true })

const MiB = 1024 * 1024
/** Just over 64 MiB so the upload takes several multipart parts, with a ragged last chunk. */
const CHUNKS = 65
const LAST_CHUNK = 12345

/** Chunk `i` of the big object, made on demand: the whole object never exists in memory. */
const bigChunk = (i: number): Uint8Array => {
  const chunk = new Uint8Array(i === CHUNKS ? LAST_CHUNK : MiB)
  let x = (i + 1) * 2654435761
  for (let j = 0; j < chunk.length; j += 4) {
    x = (x ^ (x << 13)) >>> 0
    x = (x ^ (x >>> 17)) >>> 0
    x = (x ^ (x << 5)) >>> 0
    chunk[j] = x & 0xff
    chunk[j + 1] = (x >>> 8) & 0xff
    chunk[j + 2] = (x >>> 16) & 0xff
    chunk[j + 3] = (x >>> 24) & 0xff
  }
  return chunk
}

describe("S3 ObjectStore at scale", () => {
  it.live("the environment names an S3 server", () =>
    Effect.gen(function*() {
      const config = yield* s3Config
      assert.isTrue(config.s3Url.startsWith("http"))
      assert.isTrue(Redacted.value(config.credentials.secretAccessKey).length > 0)
    }))

  it.live(
    "streams a >64 MiB multipart upload and reads it back, by SDK and by signed URL",
    () =>
      Effect.gen(function*() {
        const store = yield* ObjectStore
        const key = `ark-it-big-${randomUUID()}/backups/big/big.tar.gz`
        const written = createHash("sha256")
        let size = 0
        const body = Stream.range(0, CHUNKS).pipe(
          Stream.map((i) => bigChunk(i)),
          Stream.tap((chunk) =>
            Effect.sync(() => {
              written.update(chunk)
              size += chunk.length
            })
          )
        )
        yield* store.put(key, body)
        assert.strictEqual(size, CHUNKS * MiB + LAST_CHUNK)
        const expected = written.digest("hex")

        const read = createHash("sha256")
        yield* Stream.runForEach(store.get(key), (chunk) => Effect.sync(() => read.update(chunk)))
        assert.strictEqual(read.digest("hex"), expected)

        const listed = yield* store.list(key)
        assert.deepStrictEqual(listed.objects.map((o) => [o.key, o.size]), [[key, size]])

        const url = yield* store.signedUrl(key, Duration.minutes(5))
        const fetched = yield* Effect.promise(async () => {
          const response = await fetch(url)
          if (!response.ok || response.body === null) throw new Error(`GET signed URL: ${response.status}`)
          const hash = createHash("sha256")
          for await (const chunk of response.body) hash.update(chunk)
          return hash.digest("hex")
        })
        assert.strictEqual(fetched, expected)
        yield* store.delete(key)
        assert.isFalse(yield* store.exists(key))
      }).pipe(Effect.provide(s3Layer())),
    { timeout: 300_000 }
  )

  it.live(
    "a multipart upload to the Object Lock bucket carries its retention",
    () =>
      Effect.gen(function*() {
        const store = yield* ObjectStore
        const key = `ark-it-locked-big-${randomUUID()}/backups/big/big.tar.gz`
        const retainUntil = new Date((Math.floor((yield* Clock.currentTimeMillis) / 1000) + 5) * 1000)
        // 20 MiB, three parts: the lock headers go with CreateMultipartUpload, a checksum with each part.
        yield* store.put(key, Stream.range(1, 20).pipe(Stream.map((i) => bigChunk(i))), {
          retention: { mode: "GOVERNANCE", retainUntil }
        })
        assert.deepStrictEqual(yield* store.retention(key), Option.some({ mode: "GOVERNANCE", retainUntil }))
        assert.strictEqual((yield* Effect.flip(store.delete(key)))._tag, "ObjectStoreError")
        assert.deepStrictEqual((yield* store.list(key)).objects.map((o) => o.size), [20 * MiB])
        yield* deleteOnceReleased(store, key, "60 seconds")
        assert.isFalse(yield* store.exists(key))
      }).pipe(Effect.provide(s3Layer(undefined, true))),
    { timeout: 300_000 }
  )
})
