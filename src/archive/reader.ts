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
  /** Larger entries fail the read, before any of their bytes is held. */
  readonly maxEntryBytes?: number
  /** A batch of entries is handed downstream once it holds this many bytes (or EMIT_BATCH entries). */
  readonly maxBatchBytes?: number
}

/**
 * 3 MiB: the API server refuses a request body larger than that (k8s.io/apiserver's default
 * MaxRequestBodyBytes) and etcd stores at most 1.5 MiB per object, so a larger entry can be
 * neither a real object nor restored; it is a broken or hostile archive. Twice etcd's limit leaves
 * room for JSON being bulkier than the protobuf built-in kinds are stored as.
 */
export const defaultMaxEntryBytes = 3 * 1024 * 1024

/** 4 MiB: a batch amortises the emission over many small objects; large ones go out nearly alone. */
export const defaultMaxBatchBytes = 4 * 1024 * 1024

/**
 * Batches waiting between the tar parser and the consumer. With the batch being filled and the one
 * being offered, a reader holds at most (QUEUED_BATCHES + 2) × (maxBatchBytes + maxEntryBytes)
 * entry bytes — 28 MiB by default — however large or many the archive's entries are.
 */
const QUEUED_BATCHES = 2

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
  maxEntryBytes: number,
  maxBatchBytes: number
) => {
  let batch: Array<ArchiveEntry> = []
  let batchBytes = 0
  extract.on("entry", (header, body, next) => {
    const checked = classify(header, maxEntryBytes)
    if (Either.isLeft(checked)) {
      void emit.fail(checked.left)
      return
    }
    // One buffer of the size the header declares (already checked), filled as parts arrive: the
    // entry is held once, not once in parts and again joined.
    const size = header.size
    const data = Buffer.allocUnsafe(Option.isSome(checked.right) ? size : 0)
    let received = 0
    body.on("data", (part) => {
      if (!(part instanceof Uint8Array)) return
      if (Option.isSome(checked.right)) {
        if (received + part.length > size) {
          body.destroy()
          void emit.fail(new ArchiveReadError({ entry: header.name, reason: "entry longer than its header says" }))
          return
        }
        data.set(part, received)
      }
      received += part.length
    })
    body.on("end", () => {
      if (Option.isSome(checked.right)) {
        batch.push({ path: header.name, location: checked.right.value, data: data.subarray(0, received) })
        batchBytes += received
      }
      if (batch.length < EMIT_BATCH && batchBytes < maxBatchBytes) return next()
      const full = batch
      batch = []
      batchBytes = 0
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
      listen(extract, emit, maxEntryBytes, options.maxBatchBytes ?? defaultMaxBatchBytes)
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
    }), QUEUED_BATCHES)

const utf8 = new TextDecoder()

/** An entry's content as a JSON object. */
export const entryJson = (entry: ArchiveEntry): Either.Either<Record<string, unknown>, ArchiveReadError> => {
  try {
    const value: unknown = JSON.parse(utf8.decode(entry.data))
    return isRecord(value)
      ? Either.right(value)
      : Either.left(new ArchiveReadError({ entry: entry.path, reason: "not a JSON object" }))
  } catch (cause) {
    return Either.left(new ArchiveReadError({ entry: entry.path, reason: `invalid JSON: ${reasonOf(cause)}`, cause }))
  }
}
