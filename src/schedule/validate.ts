// What is wrong with a Schedule, for status.validationErrors: its cron, and what can be checked of
// its template without the cluster (types, ttl, selectors). Resource names and the storage
// location are left to the validation of each Backup it creates. Pure.
import { Either, Schema } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import type { Schedule } from "../api/index.ts"
import { formatDecodeError, Schedule as ScheduleSchema } from "../api/index.ts"
import { makeFilters } from "../backup/select.ts"
import type { Cron } from "./cron.ts"
import { parseSchedule } from "./cron.ts"

export interface ValidSchedule {
  readonly schedule: Schedule
  readonly cron: Cron
}

const decode = Schema.decodeUnknownEither(ScheduleSchema)

/** The line for a bad `spec.schedule`: the text and the parser's reason. */
export const cronProblem = (text: string, reason: string): string =>
  `spec.schedule: invalid schedule "${text}": ${reason}`

const rawCron = (object: KubeObject): unknown => {
  const spec = object["spec"]
  return typeof spec === "object" && spec !== null ? (spec as Record<string, unknown>)["schedule"] : undefined
}

/** Its backups are named `<schedule>-<YYYYMMDDhhmmss>`, and a name holds at most 253 characters. */
export const maxScheduleNameLength = 253 - "-YYYYMMDDhhmmss".length

/** The decoded Schedule and its cron, or every problem found. */
export const validateSchedule = (object: KubeObject): Either.Either<ValidSchedule, ReadonlyArray<string>> => {
  const text = rawCron(object)
  // A cron that is not even a string is a decode problem already.
  const cron = typeof text === "string"
    ? Either.mapLeft(parseSchedule(text), (reason): ReadonlyArray<string> => [cronProblem(text, reason)])
    : Either.left<ReadonlyArray<string>>([])
  const problems: Array<string> = Either.isLeft(cron) ? [...cron.left] : []
  const name = object.metadata.name ?? ""
  if (name.length > maxScheduleNameLength) {
    problems.push(
      `metadata.name: at most ${maxScheduleNameLength} characters, so that its backups' names <schedule>-<YYYYMMDDhhmmss> stay within 253`
    )
  }
  const decoded = decode(object)
  if (Either.isLeft(decoded)) return Either.left([...formatDecodeError(decoded.left), ...problems])
  const schedule = decoded.right
  const template = schedule.spec.template
  if (template.labelSelector !== undefined && (template.orLabelSelectors ?? []).length > 0) {
    problems.push("spec.template: labelSelector and orLabelSelectors are mutually exclusive: set only one")
  }
  Either.match(makeFilters(template), {
    onLeft: (selectorProblems) => problems.push(...selectorProblems.map((problem) => `spec.template.${problem}`)),
    onRight: () => undefined
  })
  if (Either.isLeft(cron) || problems.length > 0) return Either.left(problems)
  return Either.right({ schedule, cron: cron.right })
}
