import { Data } from "effect"

/** An entry whose path or type the format does not allow: traversal, absolute, outside the known roots. */
export class ArchivePathError extends Data.TaggedError("ArchivePathError")<{
  readonly entry: string
  readonly reason: string
}> {
  override get message() {
    return `archive entry ${JSON.stringify(this.entry)}: ${this.reason}`
  }
}

/** The bytes are not a readable tar.gz: bad gzip, corrupt or truncated tar, an oversized entry. */
export class ArchiveReadError extends Data.TaggedError("ArchiveReadError")<{
  readonly reason: string
  readonly entry?: string
  readonly cause?: unknown
}> {
  override get message() {
    return this.entry === undefined
      ? `unreadable archive: ${this.reason}`
      : `unreadable archive at entry ${JSON.stringify(this.entry)}: ${this.reason}`
  }
}

/** tar-stream or gzip failed while writing. */
export class ArchiveWriteError extends Data.TaggedError("ArchiveWriteError")<{
  readonly reason: string
  readonly entry?: string
  readonly cause?: unknown
}> {
  override get message() {
    return this.entry === undefined
      ? `cannot write archive: ${this.reason}`
      : `cannot write archive entry ${JSON.stringify(this.entry)}: ${this.reason}`
  }
}
