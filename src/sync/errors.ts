import { Data } from "effect"

/** A sync pass of one location that did nothing: the next period tries again. */
export class SyncFailed extends Data.TaggedError("SyncFailed")<{
  readonly location: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return `cannot sync backup storage location ${JSON.stringify(this.location)}: ${this.reason}`
  }
}
