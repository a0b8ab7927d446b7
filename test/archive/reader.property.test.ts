// The archive reader fuzzed: whatever bytes a bucket holds (generated tar.gz with random entries,
// paths, sizes and duplicates; random bytes; truncated or corrupted gzip), reading either yields
// entries within the size bounds or fails with a typed archive error — never a defect.
import * as zlib from "node:zlib"

import { assert, describe, it } from "@effect/vitest"
import { Cause, Chunk, Effect, Exit, FastCheck as fc, Option, Stream } from "effect"
import * as tar from "tar-stream"

import { parseEntryPath } from "../../src/archive/layout.ts"
import type { ArchiveEntry } from "../../src/archive/reader.ts"
import { readArchive } from "../../src/archive/reader.ts"

// Small limits, so generated archives cross them often.
const limits = { maxEntryBytes: 2048, maxBatchBytes: 4096 }

interface RawEntry {
  readonly name: string
  readonly type: "file" | "directory" | "symlink"
  readonly size: number
  readonly fill: number
}

const segment = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,12}$/)

const layoutPath = fc.oneof(
  fc.constant("metadata/version"),
  fc.tuple(segment, segment, segment).map(([resource, ns, name]) =>
    `resources/${resource}/namespaces/${ns}/${name}.json`
  ),
  fc.tuple(segment, segment).map(([resource, name]) => `resources/${resource}/cluster/${name}.json`)
)

const hostilePath = fc.oneof(
  fc.constantFrom(
    "../../etc/passwd",
    "/etc/passwd",
    "resources/../x.json",
    "resources\\pods\\cluster\\a.json",
    "resources//pods/cluster/a.json",
    "other/file",
    "resources/pods/cluster/",
    "C:/x",
    "resources/pods/cluster/a\u0000.json"
  ),
  fc.string({ maxLength: 40 }),
  fc.array(segment, { minLength: 1, maxLength: 8 }).map((parts) => `resources/${parts.join("/")}`)
)

const entryArb = (path: fc.Arbitrary<string>): fc.Arbitrary<RawEntry> =>
  fc.record({
    name: path,
    type: fc.constantFrom("file", "file", "file", "directory", "symlink"),
    size: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: limits.maxEntryBytes * 2 })),
    fill: fc.integer({ min: 0, max: 255 })
  })

/** Entries drawn from a small pool of paths, so duplicates are common. */
const entriesArb = fc.array(fc.oneof({ weight: 4, arbitrary: layoutPath }, { weight: 1, arbitrary: hostilePath }), {
  minLength: 1,
  maxLength: 6
}).chain((pool) => fc.array(entryArb(fc.constantFrom(...pool)), { maxLength: 24 }))

const tarGz = (entries: ReadonlyArray<RawEntry>, gzipLevel = 6) =>
  Effect.promise(async () => {
    const pack = tar.pack()
    for (const entry of entries) {
      if (entry.type === "file") pack.entry({ name: entry.name }, Buffer.alloc(entry.size, entry.fill))
      else if (entry.type === "directory") pack.entry({ name: entry.name, type: "directory" })
      else pack.entry({ name: entry.name, type: "symlink", linkname: "../../etc/shadow" })
    }
    pack.finalize()
    const parts: Array<Uint8Array> = []
    for await (const part of pack) if (part instanceof Uint8Array) parts.push(part)
    return zlib.gzipSync(Buffer.concat(parts), { level: gzipLevel })
  })

/** The bytes in chunks of random sizes, as a network delivers them. */
const chunked = (bytes: Uint8Array, sizes: ReadonlyArray<number>): Stream.Stream<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  let offset = 0
  for (let i = 0; offset < bytes.length; i++) {
    const size = sizes.length === 0 ? bytes.length : sizes[i % sizes.length]!
    chunks.push(bytes.subarray(offset, offset + size))
    offset += size
  }
  return Stream.fromIterable(chunks)
}

/**
 * Reads everything, checking each batch as it is handed downstream: no entry over the limit, no
 * batch over maxBatchBytes plus one entry. The exit is a success or a typed failure, never a defect.
 */
const readChecked = (bytes: Stream.Stream<Uint8Array>) =>
  readArchive(bytes, limits).pipe(
    Stream.mapChunks((chunk) => {
      const sizes = Chunk.toReadonlyArray(chunk).map((entry) => entry.data.length)
      for (const size of sizes) assert.isAtMost(size, limits.maxEntryBytes)
      assert.isAtMost(sizes.reduce((a, b) => a + b, 0), limits.maxBatchBytes + limits.maxEntryBytes)
      return chunk
    }),
    Stream.runCollect,
    Effect.map((entries) => Chunk.toReadonlyArray(entries)),
    Effect.exit
  )

const assertTypedOutcome = (exit: Exit.Exit<ReadonlyArray<ArchiveEntry>, { readonly _tag: string }>) => {
  if (Exit.isSuccess(exit)) return
  assert.isFalse(Cause.isDie(exit.cause), `a defect: ${Cause.pretty(exit.cause)}`)
  assert.isFalse(Cause.isInterrupted(exit.cause), "interrupted")
  const failure = Cause.failureOption(exit.cause)
  assert.isTrue(Option.isSome(failure))
  assert.include(["ArchiveReadError", "ArchivePathError"], Option.getOrThrow(failure)._tag)
}

const chunkSizes = fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 5 })

const runs = { timeout: 120_000, fastCheck: { numRuns: 150 } }

describe("readArchive (property)", () => {
  it.effect.prop(
    "a generated tar.gz reads within the bounds or fails typed; when every entry is acceptable, it reads back exactly",
    { entries: entriesArb, sizes: chunkSizes },
    ({ entries, sizes }) =>
      Effect.gen(function*() {
        const exit = yield* readChecked(chunked(yield* tarGz(entries), sizes))
        assertTypedOutcome(exit)
        const acceptable = entries.every((entry) =>
          entry.type === "file" && entry.size <= limits.maxEntryBytes && parseEntryPath(entry.name)._tag === "Right"
        )
        if (!acceptable) return
        assert.isTrue(Exit.isSuccess(exit), "an acceptable archive must read")
        if (Exit.isSuccess(exit)) {
          assert.deepStrictEqual(
            exit.value.map((entry) => [entry.path, entry.data.length, entry.data[0]]),
            entries.map((entry) => [entry.name, entry.size, entry.size === 0 ? undefined : entry.fill])
          )
        }
      }),
    runs
  )

  it.effect.prop(
    "random bytes fail typed",
    { bytes: fc.uint8Array({ maxLength: 4096 }), gzipped: fc.boolean(), sizes: chunkSizes },
    ({ bytes, gzipped, sizes }) =>
      Effect.gen(function*() {
        const input = gzipped ? zlib.gzipSync(bytes) : bytes
        assertTypedOutcome(yield* readChecked(chunked(input, sizes)))
      }),
    runs
  )

  it.effect.prop(
    "a truncated or corrupted tar.gz reads within the bounds or fails typed",
    {
      entries: entriesArb,
      cut: fc.double({ min: 0, max: 1, noNaN: true }),
      flips: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 255 })), {
        maxLength: 3
      }),
      sizes: chunkSizes
    },
    ({ cut, entries, flips, sizes }) =>
      Effect.gen(function*() {
        const whole = yield* tarGz(entries)
        const damaged = Uint8Array.from(whole.subarray(0, Math.floor(whole.length * cut)))
        for (const [at, mask] of flips) {
          const index = Math.floor(damaged.length * at)
          if (index < damaged.length) damaged[index] = damaged[index]! ^ mask
        }
        const exit = yield* readChecked(chunked(damaged, sizes))
        assertTypedOutcome(exit)
        if (damaged.length < whole.length) assert.isTrue(Exit.isFailure(exit), "a truncated archive must not read")
      }),
    runs
  )
})
