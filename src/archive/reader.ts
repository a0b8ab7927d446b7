// The bytes of a tar.gz → its entries, checked as they come: the restore reads a backup as a
// stream and never trusts an entry path.
import * as zlib from "node:zlib"

import * as NodeStream from "@effect/platform-node/NodeStream"
import type { StreamEmit } from "effect"
import { Chunk, Effect, Either, Option, Stream } from "effect"
import * as tar from "tar-stream"

import { isRecord } from "../kube/json.ts"
import { ArchivePathError, ArchiveReadError } from "./errors.ts"
import type { EntryLocation } from "./layout.ts"
import { checkEntryPath, parseEntryPath } from "./layout.ts"

export interface ArchiveEntry {
  readonly path: string
  readonly location: EntryLocation
  readonly data: Uint8Array
}

export interface ArchiveReadOptions {
  /** Larger entries fail the read: an object is at most a few MiB (etcd's limit), so more is an attack. */
  readonly maxEntryBytes?: number
}

export const defaultMaxEntryBytes = 64 * 1024 * 1024

const reasonOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/** Zero bytes at the end of what was fed so far: a complete tar ends with two zero blocks. */
const trailingZeros = (previous: number, chunk: Uint8Array): number => {
  for (let i = chunk.length - 1; i >= 0; i--) if (chunk[i] !== 0) return chunk.length - 1 - i
  return previous + chunk.length
}

const END_OF_ARCHIVE_BYTES = 1024

const feed = (extract: tar.Extract, chunk: Uint8Array) =>
  Effect.async<void>((resume) => {
    if (extract.write(chunk)) resume(Effect.void)
    else extract.once("drain", () => resume(Effect.void))
  })

type EntryError = ArchiveReadError | ArchivePathError

/** Checks an entry's header: Left to fail the read, Right(None) to skip a directory, Right(location) to read it. */
const classify = (
  header: tar.Header,
  maxEntryBytes: number
): Either.Either<Option.Option<EntryLocation>, EntryError> => {
  const path = header.name
  const type = header.type
  if (type === "directory") return Either.map(checkEntryPath(path), () => Option.none())
  if (type !== "file" && type !== "contiguous-file") {
    return Either.left(new ArchivePathError({ entry: path, reason: `unsupported entry type ${type}` }))
  }
  const size = header.size
  return Either.flatMap(parseEntryPath(path), (location) =>
    size > maxEntryBytes
      ? Either.left(
        new ArchiveReadError({ entry: path, reason: `entry of ${size} bytes exceeds the ${maxEntryBytes}-byte limit` })
      )
      : Either.right(Option.some(location)))
}

/** Entries handed downstream at once: one emission per entry costs more than reading it. */
const EMIT_BATCH = 64

/**
 * Emits entries in batches; tar-stream goes on to the next entry (`next`) at once while the batch
 * fills, and only after the batch is taken by the buffer once full: that is the backpressure.
 * Listeners go on before any byte is fed.
 */
const listen = (
  extract: tar.Extract,
  emit: StreamEmit.Emit<never, EntryError, ArchiveEntry, void>,
  maxEntryBytes: number
) => {
  let batch: Array<ArchiveEntry> = []
  extract.on("entry", (header, body, next) => {
    const checked = classify(header, maxEntryBytes)
    if (Either.isLeft(checked)) {
      void emit.fail(checked.left)
      return
    }
    const parts: Array<Uint8Array> = []
    body.on("data", (part) => {
      if (part instanceof Uint8Array) parts.push(part)
    })
    body.on("end", () => {
      if (Option.isSome(checked.right)) {
        batch.push({ path: header.name, location: checked.right.value, data: Buffer.concat(parts) })
      }
      if (batch.length < EMIT_BATCH) return next()
      const full = batch
      batch = []
      emit.chunk(Chunk.unsafeFromArray(full)).then(() => next(), () => undefined)
    })
  })
  extract.on("error", (cause) => void emit.fail(new ArchiveReadError({ reason: `tar: ${reasonOf(cause)}`, cause })))
  extract.on("finish", () => {
    const rest = batch
    batch = []
    void emit.chunk(Chunk.unsafeFromArray(rest)).then(() => emit.end())
  })
}

/**
 * The file entries of a tar.gz, in archive order. Fails with ArchivePathError naming the first
 * entry whose path is unsafe or outside the layout, and with ArchiveReadError on bad gzip or a
 * corrupt or truncated tar.
 */
export const readArchive = <E>(
  bytes: Stream.Stream<Uint8Array, E>,
  options: ArchiveReadOptions = {}
): Stream.Stream<ArchiveEntry, E | ArchiveReadError | ArchivePathError> =>
  Stream.asyncScoped<ArchiveEntry, E | EntryError>((emit) =>
    Effect.gen(function*() {
      const maxEntryBytes = options.maxEntryBytes ?? defaultMaxEntryBytes
      const extract = yield* Effect.acquireRelease(Effect.sync(() => tar.extract()), (extract) =>
        Effect.sync(() => extract.destroy()))
      listen(extract, emit, maxEntryBytes)
      const tarBytes = bytes.pipe(
        NodeStream.pipeThroughDuplex(
          () =>
            zlib.createGunzip({ chunkSize: 64 * 1024 }),
          (cause) => new ArchiveReadError({ reason: `gzip: ${reasonOf(cause)}`, cause })
        )
      )
      yield* tarBytes.pipe(
        Stream.runFoldEffect(0, (zeros, chunk) => feed(extract, chunk).pipe(Effect.as(trailingZeros(zeros, chunk)))),
        // tar-stream accepts a tar cut at an entry boundary; the missing end marker gives it away.
        Effect.filterOrFail(
          (zeros) => zeros >= END_OF_ARCHIVE_BYTES,
          () => new ArchiveReadError({ reason: "tar: no end-of-archive marker, the archive is truncated" })
        ),
        Effect.flatMap(() => Effect.sync(() => void extract.end(null))),
        // The source's own error, bad gzip or truncation fails the entries.
        Effect.catchAll((error) => Effect.sync(() => void emit.fail(error))),
        Effect.forkScoped
      )
    }), 16)

/** An entry's content as a JSON object. */
export const entryJson = (entry: ArchiveEntry): Either.Either<Record<string, unknown>, ArchiveReadError> => {
  try {
    const value: unknown = JSON.parse(Buffer.from(entry.data).toString("utf8"))
    return isRecord(value)
      ? Either.right(value)
      : Either.left(new ArchiveReadError({ entry: entry.path, reason: "not a JSON object" }))
  } catch (cause) {
    return Either.left(new ArchiveReadError({ entry: entry.path, reason: `invalid JSON: ${reasonOf(cause)}`, cause }))
  }
}
