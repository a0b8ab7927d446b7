import { Schema } from "effect"

/** A failure the user should read: one line, plus a hint of what to do about it. */
export class CliError extends Schema.TaggedError<CliError>()("CliError", {
  message: Schema.String,
  hint: Schema.optional(Schema.String)
}) {}
