// A stored log line (JSON, docs/design.md "Storage layout") as people read it: time, level,
// message, then the other fields as key=value. `-o json` prints the stored line instead.

export type LogFormat = "text" | "json"

/** `ark backup logs` and `ark restore logs`. */
export interface LogsArgs {
  readonly name: string
  readonly namespace: string
  readonly output: LogFormat
}

/** The fields every line of one log carries alike: the operation's own name. */
const sameOnEveryLine: ReadonlySet<string> = new Set(["time", "level", "msg", "backup", "restore"])

/** A value as logfmt writes it: bare when it has no blank, quote or `=`, else quoted. */
const fieldValue = (value: unknown): string => {
  const text = typeof value === "string" ? value : JSON.stringify(value)
  return text !== "" && !/[\s"=]/.test(text) ? text : JSON.stringify(text)
}

/** `2026-12-03T13:00:00.000Z info    restored  resource=configmaps namespace=web name=settings`. */
export const textLogLine = (line: string): string => {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return line
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return line
  const record = parsed as Record<string, unknown>
  const fields = Object.entries(record)
    .filter(([key]) => !sameOnEveryLine.has(key))
    .map(([key, value]) => `${key}=${fieldValue(value)}`)
  const level = typeof record["level"] === "string" ? record["level"] : ""
  const head = `${String(record["time"] ?? "")} ${level.padEnd(7)} ${String(record["msg"] ?? "")}`
  return fields.length === 0 ? head.trimEnd() : `${head}  ${fields.join(" ")}`
}

export const formatLogLine = (format: LogFormat, line: string): string => format === "json" ? line : textLogLine(line)
