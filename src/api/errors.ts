import { ParseResult } from "effect"

const expected = /^Expected (.+), actual (.+)$/

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (text, key) => typeof key === "number" ? `${text}[${key}]` : text === "" ? String(key) : `${text}.${String(key)}`,
    ""
  )

/**
 * One line per problem, `spec.ttl: expected a Go duration ...`, for FailedValidation lists and CLI
 * errors. The failed members of a literal union (a phase, an enum) become one "expected one of" line.
 */
export const formatDecodeError = (error: ParseResult.ParseError): ReadonlyArray<string> => {
  const byPath = new Map<string, Array<string>>()
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const path = formatPath(issue.path)
    byPath.set(path, [...(byPath.get(path) ?? []), issue.message])
  }
  return [...byPath].map(([path, messages]) => {
    const literals = messages.map((message) => expected.exec(message))
    const [first] = literals
    const message = messages.length > 1 && first != null && literals.every((match) => match != null)
      ? `expected one of ${literals.map((match) => match?.[1]).join(", ")}, got ${first[2]}`
      : messages.join("; ")
    return path === "" ? message : `${path}: ${message}`
  })
}
