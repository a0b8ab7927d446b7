import { Schema } from "effect"

/** A failure the user should read: one line, plus a hint of what to do about it. */
export class CliError extends Schema.TaggedError<CliError>()("CliError", {
  message: Schema.String,
  hint: Schema.optional(Schema.String)
}) {}

/** The issues that deliver each part of Ark, so an undelivered command can say where it is coming from. */
const deliveredBy = {
  backups: "issue 4 (backups end to end)",
  restores: "issue 5 (restores end to end)",
  volumes: "issue 6 (persistent volumes and hooks)",
  schedules: "issue 7 (schedules, TTL expiry, deletion and sync)",
  server: "issue 8 (the server as a product)"
} as const

/** The handler of a command that a later issue delivers: it says so and fails; it never pretends. */
export const notYetDelivered = (command: string, part: keyof typeof deliveredBy) =>
  new CliError({
    message: `\`${command}\` is not implemented yet`,
    hint: `it arrives with ${deliveredBy[part]}; see README.md for what works today`
  })
