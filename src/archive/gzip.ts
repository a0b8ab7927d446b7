// gzip for the small files next to a tarball (logs, resource list, results), streamed.
import * as zlib from "node:zlib"

import * as NodeStream from "@effect/platform-node/NodeStream"
import { Chunk, Stream } from "effect"

import { ArchiveReadError, ArchiveWriteError } from "./errors.ts"

const reasonOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

export const gzip = <E>(bytes: Stream.Stream<Uint8Array, E>): Stream.Stream<Uint8Array, E | ArchiveWriteError> =>
  bytes.pipe(
    NodeStream.pipeThroughDuplex(
      () => zlib.createGzip({ chunkSize: 64 * 1024 }),
      (cause) => new ArchiveWriteError({ reason: `gzip: ${reasonOf(cause)}`, cause })
    )
  )

export const gunzip = <E>(bytes: Stream.Stream<Uint8Array, E>): Stream.Stream<Uint8Array, E | ArchiveReadError> =>
  bytes.pipe(
    NodeStream.pipeThroughDuplex(
      () => zlib.createGunzip({ chunkSize: 64 * 1024 }),
      (cause) => new ArchiveReadError({ reason: `gzip: ${reasonOf(cause)}`, cause })
    )
  )

const encoder = new TextEncoder()

/**
 * Text pieces (JSON lines, say) as one gzip stream. Each chunk of pieces is joined first: one zlib
 * write per tiny piece is slow.
 */
export const gzipText = <E>(text: Stream.Stream<string, E>): Stream.Stream<Uint8Array, E | ArchiveWriteError> =>
  gzip(text.pipe(Stream.mapChunks((pieces) => Chunk.of(encoder.encode(Chunk.join(pieces, ""))))))
