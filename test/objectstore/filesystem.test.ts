import * as NodePath from "node:path"

import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Fiber, Layer, Option, Stream } from "effect"

import * as FilesystemObjectStore from "../../layers/objectstore/Filesystem.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { objectStoreContract } from "../contract/objectStore.ts"
import { waitFor } from "../support/wait.ts"

class Root extends Context.Tag("test/Root")<Root, string>() {}

/** A store over a fresh temporary root, removed when the test's layer closes. */
const tempStore = (options: { readonly bucket?: string; readonly prefix?: string } = {}) =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped({ prefix: "ark-objectstore-" })
      return Layer.merge(FilesystemObjectStore.layer({ root, ...options }), Layer.succeed(Root, root))
    })
  ).pipe(Layer.provide(NodeFileSystem.layer))

objectStoreContract("Filesystem", tempStore())
objectStoreContract("Filesystem with bucket and prefix", tempStore({ bucket: "ark", prefix: "cluster-a/x" }))

describe("Filesystem ObjectStore", () => {
  it.live("lays bucket, prefix and key out as directories under the root", () =>
    Effect.gen(function*() {
      const store = yield* ObjectStore
      const root = yield* Root
      const fs = yield* FileSystem.FileSystem
      yield* store.put("backups/b1/ark-backup.json", Stream.make(new TextEncoder().encode("{}")))
      const onDisk = yield* fs.readFileString(
        NodePath.join(root, "ark", "pre", "fix", "backups", "b1", "ark-backup.json")
      )
      assert.strictEqual(onDisk, "{}")
      const url = yield* store.signedUrl("backups/b1/ark-backup.json", Duration.decode("1 minute"))
      assert.strictEqual(url, `file://${NodePath.join(root, "ark", "pre", "fix", "backups", "b1", "ark-backup.json")}`)
    }).pipe(Effect.provide(Layer.merge(tempStore({ bucket: "ark", prefix: "pre/fix" }), NodeFileSystem.layer))))

  it.live("rejects keys that would escape the root", () =>
    Effect.gen(function*() {
      const store = yield* ObjectStore
      for (const key of ["../outside", "a/../../outside", "/etc/passwd", "a//b", "", "./a"]) {
        const error = yield* Effect.flip(store.put(key, Stream.make(new Uint8Array([1]))))
        assert.strictEqual(error._tag, "ObjectStoreError", key)
        const readError = yield* Effect.flip(Stream.runDrain(store.get(key)))
        assert.strictEqual(readError._tag, "ObjectStoreError", key)
      }
    }).pipe(Effect.provide(tempStore())))

  it.live("a reader never sees a half-written object, and partial files are not listed", () =>
    Effect.gen(function*() {
      const store = yield* ObjectStore
      const fs = yield* FileSystem.FileSystem
      const root = yield* Root
      const gate = yield* Effect.makeLatch(false)
      const body = Stream.make(new Uint8Array([1, 2, 3])).pipe(
        Stream.concat(Stream.fromEffect(gate.await).pipe(Stream.as(new Uint8Array([4]))))
      )
      const writer = yield* Effect.fork(store.put("dir/obj", body))
      // Until the first bytes are on disk beside the target (the directory itself may not exist yet).
      yield* waitFor(
        "the partial file on disk",
        fs.readDirectory(NodePath.join(root, "dir")).pipe(
          Effect.map((entries) => entries.length > 0 ? Option.some(entries) : Option.none()),
          Effect.orElseSucceed(() => Option.none())
        )
      )
      assert.isFalse(yield* store.exists("dir/obj"))
      assert.deepStrictEqual(yield* store.list("dir/"), { objects: [], prefixes: [] })
      yield* gate.open
      yield* Fiber.join(writer)
      assert.deepStrictEqual(yield* fs.readDirectory(NodePath.join(root, "dir")), ["obj"])
      assert.strictEqual((yield* store.list("dir/")).objects[0]?.size, 4)
    }).pipe(Effect.provide(Layer.merge(tempStore(), NodeFileSystem.layer))))
})
