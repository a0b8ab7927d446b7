// The memory design of a backup: objects stream from the list pages into the tarball and the
// upload, so only a fixed number of pages is ever held, however many objects there are. Counted
// here, not timed: pages the KubeClient has handed out against objects the store has read back out
// of the uploaded tar.gz, with a store that consumes slowly so that any unbounded buffer fills.
import * as zlib from "node:zlib"

import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import * as tar from "tar-stream"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import * as MemoryObjectStore from "../../layers/objectstore/Memory.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { runBackup } from "../../src/backup/run.ts"
import { deps, makeBackup } from "./fixtures.ts"

const pageSize = 5

interface Counts {
  /** Pages of objects of the backed-up namespace handed out by the KubeClient. */
  handedOut: number
  /** Their objects read back out of the tarball by the store. */
  stored: number
  /** The most pages handed out whose objects were not all stored yet. */
  maxHeld: number
}

/** Objects that gzip cannot shrink, so the compressed stream lags the objects by very little. */
const noise = (seed: number, length: number) => {
  let state = seed
  let text = ""
  while (text.length < length) {
    state = (state * 1103515245 + 12345) % 2147483648
    text += state.toString(36)
  }
  return text.slice(0, length)
}

const objectsOf = (kind: "ConfigMap" | "Secret", count: number): ReadonlyArray<KubeObject> =>
  Array.from({ length: count }, (_, index) => ({
    apiVersion: "v1",
    kind,
    metadata: { name: `${kind.toLowerCase()}-${index}`, namespace: "big" },
    data: { payload: kind === "Secret" ? Buffer.from(noise(index, 12_000)).toString("base64") : noise(index, 16_000) }
  }))

/** The Memory KubeClient, counting the pages of namespace `big` as they are handed out. */
const countingKube = (counts: Counts) =>
  Layer.effect(
    KubeClient,
    Effect.map(KubeClient, (kube): KubeClient.Shape => ({
      ...kube,
      listPages: (gvr, options) =>
        kube.listPages(gvr, options).pipe(
          Stream.tap((page) =>
            Effect.sync(() => {
              if (!page.items.some((object) => object.metadata.namespace === "big")) return
              counts.handedOut++
              const held = counts.handedOut - Math.floor(counts.stored / pageSize)
              counts.maxHeld = Math.max(counts.maxHeld, held)
            })
          )
        )
    }))
  )

/**
 * Counts the tarball's entries of namespace `big` as they come out of gzip and tar, feeding the
 * bytes in only as fast as the parser drains them (so the count lags the body by a bounded amount).
 */
const entryCounter = (counts: Counts) => {
  const gunzip = zlib.createGunzip()
  const extract = tar.extract()
  extract.on("entry", (header, body, next) => {
    body.on("end", () => {
      if (header.name.includes("/namespaces/big/")) counts.stored++
      next()
    })
    body.resume()
  })
  gunzip.pipe(extract)
  const done = new Promise<void>((resolve, reject) => {
    extract.on("finish", resolve)
    extract.on("error", reject)
    gunzip.on("error", reject)
  })
  return {
    feed: (bytes: Uint8Array) =>
      Effect.async<void>((resume) => {
        if (gunzip.write(bytes)) resume(Effect.void)
        else gunzip.once("drain", () => resume(Effect.void))
      }),
    end: Effect.promise(() => {
      gunzip.end()
      return done
    })
  }
}

/** The Memory store, counting the tarball's entries as the upload goes and yielding after each chunk. */
const slowStore = (counts: Counts) =>
  Layer.effect(
    ObjectStore,
    Effect.map(ObjectStore, (store): ObjectStore.Shape => ({
      ...store,
      put: (key, body) => {
        if (key !== backupKeys("b1").tarball) return store.put(key, body)
        const tarball: Array<Uint8Array> = []
        const counter = entryCounter(counts)
        return body.pipe(
          Stream.runForEach((bytes) =>
            Effect.sync(() => void tarball.push(bytes)).pipe(
              Effect.zipRight(counter.feed(bytes)),
              Effect.zipRight(Effect.yieldNow())
            )
          ),
          Effect.zipRight(counter.end),
          Effect.zipRight(store.put(key, Stream.fromIterable(tarball)))
        )
      }
    }))
  )

const backUpPages = (pagesPerKind: number) =>
  Effect.gen(function*() {
    const counts: Counts = { handedOut: 0, stored: 0, maxHeld: 0 }
    const objects = [
      ...objectsOf("ConfigMap", pagesPerKind * pageSize),
      ...objectsOf("Secret", pagesPerKind * pageSize)
    ]
    const backup = yield* Effect.gen(function*() {
      yield* (yield* MemoryKube.MemoryKube).seed(objects)
      return yield* runBackup(makeBackup({ includedNamespaces: ["big"] }), { ...deps, pageSize })
    }).pipe(
      // The counting wrappers shadow the Memory layers they wrap.
      Effect.provide(Layer.merge(countingKube(counts), slowStore(counts))),
      Effect.provide(Layer.merge(MemoryKube.layer, MemoryObjectStore.layer()))
    )
    assert.strictEqual(backup.status?.phase, "Completed")
    assert.strictEqual(counts.stored, objects.length, "every object reached the store")
    return counts
  })

describe("a backup's memory", () => {
  // backup/write.ts starts 8 lists ahead, each holding its first page, and the list being written
  // reads one page ahead: at most (8 + 1) + (1 + 1) = 11 pages of objects, and here only two lists
  // have any. Measured: 8, with what sits in tar and gzip.
  const bound = 11

  it.effect("holds a fixed number of list pages at once, however many pages there are", () =>
    Effect.gen(function*() {
      const counts = yield* backUpPages(40)
      assert.strictEqual(counts.handedOut, 80)
      assert.isAtMost(counts.maxHeld, bound, `held ${counts.maxHeld} of ${counts.handedOut} pages at once`)
    }))
})
