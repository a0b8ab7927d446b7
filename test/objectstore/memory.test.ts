import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Option, Stream, TestClock } from "effect"

import * as MemoryObjectStore from "../../layers/objectstore/Memory.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { objectStoreContract } from "../contract/objectStore.ts"

objectStoreContract("Memory", MemoryObjectStore.layer(), { retains: true })

describe("Memory ObjectStore", () => {
  it.effect("signs URLs as memory://bucket/key with an expiry from the clock", () =>
    Effect.gen(function*() {
      const store = yield* ObjectStore
      yield* TestClock.adjust("1000 seconds")
      yield* store.put("backups/b 1/x.json", Stream.make(new Uint8Array([1])))
      const url = yield* store.signedUrl("backups/b 1/x.json", Duration.decode("10 minutes"))
      assert.strictEqual(url, "memory://ark/backups/b%201/x.json?expires=1600")
    }).pipe(Effect.provide(MemoryObjectStore.layer({ bucket: "ark" }))))

  it.effect("enforces a retention by the clock: refused before retainUntil, deleted at it", () =>
    Effect.gen(function*() {
      const store = yield* ObjectStore
      const retention = { mode: "COMPLIANCE", retainUntil: new Date(60_000) } as const
      yield* store.put("backups/b/b.tar.gz", Stream.make(new Uint8Array([1])), { retention })
      yield* TestClock.adjust("59 seconds")
      const refused = yield* Effect.flip(store.delete("backups/b/b.tar.gz"))
      assert.include(refused.message, "retained until 1970-01-01T00:01:00.000Z (Object Lock COMPLIANCE)")
      assert.deepStrictEqual(yield* store.retention("backups/b/b.tar.gz"), Option.some(retention))
      yield* TestClock.adjust("1 second")
      yield* store.delete("backups/b/b.tar.gz")
      assert.isFalse(yield* store.exists("backups/b/b.tar.gz"))
    }).pipe(Effect.provide(MemoryObjectStore.layer())))

  it.effect("records lastModified from the clock", () =>
    Effect.gen(function*() {
      const store = yield* ObjectStore
      yield* TestClock.adjust("5 seconds")
      yield* store.put("k", Stream.make(new Uint8Array([1, 2])))
      const listing = yield* store.list("")
      assert.deepStrictEqual(listing.objects, [{ key: "k", size: 2, lastModified: new Date(5000) }])
    }).pipe(Effect.provide(MemoryObjectStore.layer())))
})
