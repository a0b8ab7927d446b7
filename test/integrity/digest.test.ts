import { createHash } from "node:crypto"

import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Schema, Stream } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { Backup } from "../../src/api/backup.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { runBackup } from "../../src/backup/run.ts"
import { digesting } from "../../src/integrity/digest.ts"
import { configMap, deps, makeBackup, testLayer } from "../backup/fixtures.ts"

const bytesOf = (key: string) =>
  ObjectStore.pipe(
    Effect.flatMap((store) => Stream.runCollect(store.get(key))),
    Effect.map((chunks) => Buffer.concat(Chunk.toArray(chunks)))
  )

describe("content digests", () => {
  it.effect("ark-backup.json lists every other file of the backup with the size and SHA-256 stored", () =>
    Effect.gen(function*() {
      const control = yield* MemoryKube.MemoryKube
      yield* control.seed([configMap("app", "settings"), configMap("app", "other")])
      const backup = yield* runBackup(makeBackup({ includedNamespaces: ["app"] }), deps)
      const keys = backupKeys("b1")
      const store = yield* ObjectStore
      const stored = (yield* store.list(keys.dir)).objects.map((object) => object.key)
      const committed = Schema.decodeUnknownSync(Schema.parseJson(Backup))(
        (yield* bytesOf(keys.metadata)).toString("utf8")
      )
      const files = committed.status?.files ?? []
      assert.deepStrictEqual(
        files.map((file) => file.name),
        stored.filter((key) => key !== keys.metadata).map((key) => key.slice(keys.dir.length)).sort()
      )
      assert.isTrue(files.some((file) => file.name === "b1.tar.gz"))
      for (const file of files) {
        const bytes = yield* bytesOf(`${keys.dir}${file.name}`)
        assert.strictEqual(file.size, bytes.length, file.name)
        assert.strictEqual(file.sha256, createHash("sha256").update(bytes).digest("hex"), file.name)
      }
      // The Backup the controller records carries the same list.
      assert.deepStrictEqual(backup.status?.files, files)
    }).pipe(Effect.provide(testLayer())))

  it.effect("a body read twice records the second read, not the sum of both", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const body = digesting(Stream.make(new Uint8Array([1, 2, 3])), (digest) =>
        Effect.sync(() => {
          seen.push(`${digest.size}:${digest.sha256.slice(0, 8)}`)
        }))
      yield* Stream.runDrain(body)
      yield* Stream.runDrain(body)
      assert.deepStrictEqual(seen, ["3:039058c6", "3:039058c6"])
    }))
})
