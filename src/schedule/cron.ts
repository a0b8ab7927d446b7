// A Schedule's `spec.schedule`: when its backups are due. The syntax is Velero's (robfig/cron):
// 5-field standard cron, the @hourly/@daily/... descriptors, and `@every <Go duration>`. All
// times are UTC. Pure.
import { CronExpressionParser } from "cron-parser"
import { Duration, Either, Option } from "effect"

import { parseGoDuration } from "../api/duration.ts"

export type Cron =
  /** A 5-field expression (descriptors are expanded to one). */
  | { readonly _tag: "Expression"; readonly expression: string }
  /** `@every d`: the next run is the last one plus `interval`. */
  | { readonly _tag: "Every"; readonly interval: Duration.Duration }

const descriptors: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *"
}

const fieldNames = "minute hour day-of-month month day-of-week"

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** robfig/cron's rule: whole seconds, at least one. */
const everyInterval = (duration: Duration.Duration): Duration.Duration =>
  Duration.max(Duration.seconds(Math.floor(Duration.toSeconds(duration))), Duration.seconds(1))

const parseEvery = (argument: string): Either.Either<Cron, string> => {
  if (argument === "") return Either.left("@every needs a duration, such as @every 6h")
  return Option.match(parseGoDuration(argument), {
    onNone: () =>
      Either.left(`@every: invalid duration "${argument}": expected a Go duration such as 6h, 30m or 1h30m`),
    onSome: (duration) =>
      Duration.greaterThan(duration, Duration.zero)
        ? Either.right({ _tag: "Every", interval: everyInterval(duration) })
        : Either.left(`@every needs a positive duration, got "${argument}"`)
  })
}

/** A fixed instant to evaluate expressions at while validating them (never the wall clock). */
const validationDate = Date.UTC(2000, 0, 1)

/** Hashed values (`H`) would pick a random minute per process; robfig/cron has none. */
const hasHashedValue = (field: string) => /H/.test(field.replace(/[a-z]{3}/gi, ""))

const parseExpression = (expression: string): Either.Either<Cron, string> => {
  const fields = expression.split(/\s+/)
  if (fields.length !== 5) {
    return Either.left(
      `expected 5 fields (${fieldNames}), got ${fields.length}` +
        (fields.length === 6 ? ": a seconds field is not supported" : "")
    )
  }
  if (fields.some((field) => hasHashedValue(field))) return Either.left("hashed values (H) are not supported")
  try {
    // One next() as well: some expressions only fail when they are evaluated.
    CronExpressionParser.parse(expression, { currentDate: validationDate, tz: "UTC" }).next()
    return Either.right({ _tag: "Expression", expression })
  } catch (error) {
    return Either.left(errorMessage(error))
  }
}

/** The schedule, or the reason it is not one (one line, the parser's own message where it has one). */
export const parseSchedule = (text: string): Either.Either<Cron, string> => {
  const trimmed = text.trim()
  if (trimmed === "") return Either.left(`empty schedule: expected ${fieldNames} such as "0 */6 * * *"`)
  if (trimmed === "@every" || trimmed.startsWith("@every ") || trimmed.startsWith("@every\t")) {
    return parseEvery(trimmed.slice("@every".length).trim())
  }
  if (trimmed.startsWith("@")) {
    const expression = descriptors[trimmed]
    return expression === undefined
      ? Either.left(`unknown descriptor "${trimmed}": use ${Object.keys(descriptors).join(", ")} or @every <duration>`)
      : parseExpression(expression)
  }
  return parseExpression(trimmed)
}

/** The first run strictly after `afterMillis` (epoch millis, UTC). */
export const nextRun = (cron: Cron, afterMillis: number): number => {
  switch (cron._tag) {
    case "Every":
      return afterMillis + Duration.toMillis(cron.interval)
    case "Expression":
      return CronExpressionParser.parse(cron.expression, { currentDate: afterMillis, tz: "UTC" }).next().getTime()
  }
}
