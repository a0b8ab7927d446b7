import * as zlib from "node:zlib"

import { assert, describe, it } from "@effect/vitest"
import { Chunk, Data, Effect, Either, Exit, Ref, Stream } from "effect"
import * as tar from "tar-stream"

import type { EntryLocation } from "../../src/archive/layout.ts"
import { backupKeys, parseEntryPath, resourceEntryPath, restoreKeys } from "../../src/archive/layout.ts"
import { readArchive } from "../../src/archive/reader.ts"
import type { ArchiveItem } from "../../src/archive/writer.ts"
import { writeArchive } from "../../src/archive/writer.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const item = (path: string, text: string): ArchiveItem & { readonly data: Uint8Array } => ({
  path,
  data: encoder.encode(text)
})

const concat = (chunks: Chunk.Chunk<Uint8Array>): Uint8Array => Buffer.concat(Chunk.toReadonlyArray(chunks))

/** A tar.gz built by hand, to hold what Ark's writer refuses to produce. */
type RawEntry = Partial<tar.Header> & { readonly name: string; readonly body?: string }

const rawTarGz = (entries: ReadonlyArray<RawEntry>) =>
  Effect.promise(async () => {
    const pack = tar.pack()
    for (const { body, ...header } of entries) pack.entry(header, body ?? "")
    pack.finalize()
    const parts: Array<Uint8Array> = []
    for await (const part of pack) if (part instanceof Uint8Array) parts.push(part)
    return zlib.gzipSync(Buffer.concat(parts))
  })

const readAll = (bytes: Uint8Array) =>
  Stream.runCollect(readArchive(Stream.make(bytes))).pipe(Effect.map((entries) => Chunk.toReadonlyArray(entries)))

class SourceBroke extends Data.TaggedError("SourceBroke")<{}> {}

describe("storage layout", () => {
  it("names every file of a backup and a restore", () => {
    assert.deepStrictEqual(backupKeys("nightly"), {
      dir: "backups/nightly/",
      tarball: "backups/nightly/nightly.tar.gz",
      logs: "backups/nightly/nightly-logs.gz",
      resourceList: "backups/nightly/nightly-resource-list.json.gz",
      volumeSnapshots: "backups/nightly/nightly-volumesnapshots.json.gz",
      results: "backups/nightly/nightly-results.gz",
      metadata: "backups/nightly/ark-backup.json",
      resource: "backups/nightly/ark-backup-resource.json.age"
    })
    assert.deepStrictEqual(restoreKeys("r1"), {
      dir: "restores/r1/",
      logs: "restores/r1/restore-r1-logs.gz",
      results: "restores/r1/restore-r1-results.gz",
      items: "restores/r1/restore-r1-items.gz"
    })
  })

  it("places namespaced and cluster-scoped objects", () => {
    assert.strictEqual(resourceEntryPath("pods", "app", "web-0"), "resources/pods/namespaces/app/web-0.json")
    assert.strictEqual(
      resourceEntryPath("deployments.apps", "app", "web"),
      "resources/deployments.apps/namespaces/app/web.json"
    )
    assert.strictEqual(
      resourceEntryPath("widgets.example.com", undefined, "w"),
      "resources/widgets.example.com/cluster/w.json"
    )
    assert.strictEqual(
      resourceEntryPath("persistentvolumes", "", "pv-1"),
      "resources/persistentvolumes/cluster/pv-1.json"
    )
  })

  const accepted: ReadonlyArray<readonly [string, EntryLocation]> = [
    ["metadata/version", { _tag: "Metadata", name: "version" }],
    ["resources/pods/namespaces/app/web-0.json", {
      _tag: "Resource",
      groupResource: "pods",
      namespace: "app",
      name: "web-0"
    }],
    ["resources/deployments.apps/namespaces/a/d.json", {
      _tag: "Resource",
      groupResource: "deployments.apps",
      namespace: "a",
      name: "d"
    }],
    ["resources/widgets.example.com/cluster/w.1.json", {
      _tag: "Resource",
      groupResource: "widgets.example.com",
      namespace: undefined,
      name: "w.1"
    }]
  ]
  for (const [path, location] of accepted) {
    it(`accepts ${path}`, () => {
      assert.deepStrictEqual(parseEntryPath(path), Either.right(location))
    })
  }

  const rejected: ReadonlyArray<readonly [string, string]> = [
    ["/etc/passwd", "absolute path"],
    ["/resources/pods/cluster/x.json", "absolute path"],
    ["C:/resources/x", "absolute path"],
    ["resources/../../etc/passwd", "path traversal (..)"],
    ["resources/pods/namespaces/../x.json", "path traversal (..)"],
    ["..", "path traversal (..)"],
    ["etc/passwd", "outside resources/ and metadata/"],
    ["version", "outside resources/ and metadata/"],
    ["resources//pods/cluster/x.json", "not a normalized path"],
    ["./resources/pods/cluster/x.json", "not a normalized path"],
    ["resources\\..\\x", "backslash in path"],
    ["", "empty path"]
  ]
  for (const [path, reason] of rejected) {
    it(`rejects ${JSON.stringify(path)}: ${reason}`, () => {
      const result = parseEntryPath(path)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.strictEqual(result.left.reason, reason)
        assert.strictEqual(result.left.entry, path)
      }
    })
  }

  for (
    const path of [
      "resources/pods/x.json",
      "resources/pods/cluster/x",
      "resources/pods/namespaces/a/b/c.json",
      "metadata/a/b",
      "resources/pods/cluster/.json"
    ]
  ) {
    it(`rejects the unknown layout ${path}`, () => {
      assert.isTrue(Either.isLeft(parseEntryPath(path)))
    })
  }
})

describe("archive writer and reader", () => {
  it.effect("writes any path (ustar name and prefix, a pax path when neither fits, UTF-8), bytes or text, of any padding", () =>
    Effect.gen(function*() {
      const items = [
        item(`resources/configmaps/namespaces/${"n".repeat(63)}/${"x".repeat(90)}.json`, "{}"),
        item(`resources/widgets.example.com/cluster/${"y".repeat(253)}.json`, "z".repeat(512)),
        item("resources/configmaps/namespaces/default/ümlaut.json", "z".repeat(513)),
        item("resources/configmaps/namespaces/default/empty.json", "")
      ]
      // Text is encoded as UTF-8 by the writer, multi-byte characters included.
      const text: ArchiveItem = {
        path: "resources/configmaps/namespaces/default/text.json",
        data: `{"a":"ü€${"z".repeat(70_000)}"}`
      }
      const archive = writeArchive(Stream.fromIterable<ArchiveItem>([...items, text]))
      const entries = yield* readAll(concat(yield* Stream.runCollect(archive)))
      assert.deepStrictEqual(
        entries.slice(1).map((entry) => [entry.path, decoder.decode(entry.data)]),
        [...items.map((i) => [i.path, decoder.decode(i.data)]), [text.path, text.data]]
      )
    }))

  it.effect("round-trips items after a metadata/version entry of 1.0.0", () =>
    Effect.gen(function*() {
      const items = [
        item("resources/pods/namespaces/a/p.json", `{"kind":"Pod"}`),
        item("resources/namespaces/cluster/a.json", `{"kind":"Namespace"}`),
        item(`resources/configmaps/namespaces/a/${"x".repeat(240)}.json`, "{}")
      ]
      const bytes = concat(yield* Stream.runCollect(writeArchive(Stream.fromIterable(items))))
      assert.strictEqual(bytes[0], 0x1f, "gzip magic")
      const entries = yield* readAll(bytes)
      assert.deepStrictEqual(entries.map((entry) => entry.path), ["metadata/version", ...items.map((i) => i.path)])
      assert.strictEqual(decoder.decode(entries[0]!.data), "1.0.0")
      assert.deepStrictEqual(
        entries.slice(1).map((entry) => decoder.decode(entry.data)),
        items.map((i) => decoder.decode(i.data))
      )
      assert.deepStrictEqual(entries[1]!.location, {
        _tag: "Resource",
        groupResource: "pods",
        namespace: "a",
        name: "p"
      })
    }))

  it.effect("refuses to write an entry the reader would reject", () =>
    Effect.gen(function*() {
      const exit = yield* Stream.runDrain(writeArchive(Stream.make(item("resources/../x.json", "{}")))).pipe(
        Effect.exit
      )
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Stream.runDrain(writeArchive(Stream.make(item("resources/../x.json", "{}")))).pipe(
        Effect.flip
      )
      assert.strictEqual(error._tag, "ArchiveWriteError")
      if (error._tag === "ArchiveWriteError") assert.strictEqual(error.entry, "resources/../x.json")
    }))

  it.effect("passes the items' own failure through", () =>
    Effect.gen(function*() {
      const items = Stream.concat(
        Stream.make(item("resources/pods/cluster/a.json", "{}")),
        Stream.fail(new SourceBroke())
      )
      const error = yield* Stream.runDrain(writeArchive(items)).pipe(Effect.flip)
      assert.strictEqual(error._tag, "SourceBroke")
    }))

  const pathCases: ReadonlyArray<readonly [string, RawEntry]> = [
    ["a traversal path", { name: "resources/../../etc/passwd", body: "x" }],
    ["an absolute path", { name: "/etc/passwd", body: "x" }],
    ["a path outside resources/ and metadata/", { name: "evil/x.json", body: "x" }],
    ["a symlink", { name: "resources/pods/cluster/l.json", type: "symlink", linkname: "/etc/passwd" }],
    ["a directory outside the roots", { name: "etc/", type: "directory" }]
  ]
  for (const [what, header] of pathCases) {
    it.effect(`fails the read on ${what}, naming the entry`, () =>
      Effect.gen(function*() {
        const bytes = yield* rawTarGz([{ name: "metadata/version", body: "1.0.0" }, header])
        const error = yield* readAll(bytes).pipe(Effect.flip)
        assert.strictEqual(error._tag, "ArchivePathError")
        if (error._tag === "ArchivePathError") assert.strictEqual(error.entry, header.name)
      }))
  }

  it.effect("skips directory entries inside the roots", () =>
    Effect.gen(function*() {
      const bytes = yield* rawTarGz([
        { name: "resources/", type: "directory" },
        { name: "resources/pods/cluster/a.json", body: "{}" }
      ])
      const entries = yield* readAll(bytes)
      assert.deepStrictEqual(entries.map((entry) => entry.path), ["resources/pods/cluster/a.json"])
    }))

  it.effect("fails with ArchiveReadError on input that is not gzip", () =>
    Effect.gen(function*() {
      const error = yield* readAll(encoder.encode("this is not a tarball at all")).pipe(Effect.flip)
      assert.strictEqual(error._tag, "ArchiveReadError")
    }))

  it.effect("fails with ArchiveReadError on truncated gzip", () =>
    Effect.gen(function*() {
      const items = Array.from({ length: 200 }, (_, i) =>
        item(`resources/configmaps/namespaces/a/c${i}.json`, JSON.stringify({ i, pad: "y".repeat(200 + i) })))
      const bytes = concat(yield* Stream.runCollect(writeArchive(Stream.fromIterable(items))))
      const error = yield* readAll(bytes.subarray(0, Math.floor(bytes.length / 2))).pipe(Effect.flip)
      assert.strictEqual(error._tag, "ArchiveReadError")
    }))

  it.effect("fails with ArchiveReadError on a truncated tar inside valid gzip", () =>
    Effect.gen(function*() {
      const whole = zlib.gunzipSync(
        yield* rawTarGz([{ name: "resources/pods/cluster/a.json", body: "z".repeat(5000) }])
      )
      const error = yield* readAll(zlib.gzipSync(whole.subarray(0, 2048))).pipe(Effect.flip)
      assert.strictEqual(error._tag, "ArchiveReadError")
    }))

  it.effect("fails with ArchiveReadError on a tar cut exactly at an entry boundary", () =>
    Effect.gen(function*() {
      const whole = zlib.gunzipSync(
        yield* rawTarGz([
          { name: "resources/pods/cluster/a.json", body: "{}" },
          { name: "resources/pods/cluster/b.json", body: "{}" }
        ])
      )
      const error = yield* readAll(zlib.gzipSync(whole.subarray(0, 1024))).pipe(Effect.flip)
      assert.strictEqual(error._tag, "ArchiveReadError")
    }))

  it.effect("fails with ArchiveReadError on empty input", () =>
    Effect.gen(function*() {
      const error = yield* readAll(new Uint8Array(0)).pipe(Effect.flip)
      assert.strictEqual(error._tag, "ArchiveReadError")
    }))

  it.effect("fails with ArchiveReadError on a corrupt tar header", () =>
    Effect.gen(function*() {
      const whole = Buffer.from(
        zlib.gunzipSync(yield* rawTarGz([{ name: "resources/pods/cluster/a.json", body: "{}" }]))
      )
      whole.fill(0x41, 100, 200) // mode, uid, gid, size: garbage, and the checksum no longer matches
      const error = yield* readAll(zlib.gzipSync(whole)).pipe(Effect.flip)
      assert.strictEqual(error._tag, "ArchiveReadError")
    }))

  it.effect("refuses an entry larger than the limit", () =>
    Effect.gen(function*() {
      const bytes = yield* rawTarGz([{ name: "resources/pods/cluster/a.json", body: "z".repeat(2000) }])
      const error = yield* Stream.runDrain(readArchive(Stream.make(bytes), { maxEntryBytes: 1000 })).pipe(Effect.flip)
      assert.strictEqual(error._tag, "ArchiveReadError")
      if (error._tag === "ArchiveReadError") assert.strictEqual(error.entry, "resources/pods/cluster/a.json")
    }))

  it.effect(
    "streams 20k items: output starts long before the input ends, and reads back in order",
    () =>
      Effect.gen(function*() {
        const total = 20_000
        const pulled = yield* Ref.make(0)
        const items = Stream.range(0, total - 1).pipe(
          Stream.rechunk(500),
          Stream.map((i) =>
            item(
              `resources/configmaps/namespaces/ns-${i % 7}/cm-${i}.json`,
              JSON.stringify({ i, data: { v: "v".repeat(300 + (i % 97)) } })
            )
          ),
          Stream.tap(() => Ref.update(pulled, (n) => n + 1))
        )
        // Take only the first compressed chunk: backpressure must have stopped the producer early.
        yield* Stream.runDrain(Stream.take(writeArchive(items), 1))
        const pulledBeforeFirstChunk = yield* Ref.get(pulled)
        assert.isBelow(pulledBeforeFirstChunk, total / 4)

        yield* Ref.set(pulled, 0)
        const bytes = writeArchive(items).pipe(Stream.rechunk(1))
        const seen = yield* readArchive(bytes).pipe(
          Stream.runFoldEffect(0, (index, entry) =>
            Effect.sync(() => {
              if (index === 0) {
                assert.strictEqual(entry.path, "metadata/version")
              } else {
                const i = index - 1
                assert.strictEqual(entry.path, `resources/configmaps/namespaces/ns-${i % 7}/cm-${i}.json`)
              }
              return index + 1
            }))
        )
        assert.strictEqual(seen, total + 1)
        assert.strictEqual(yield* Ref.get(pulled), total)
      })
  )
})
