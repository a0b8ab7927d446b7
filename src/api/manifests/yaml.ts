/**
 * A small deterministic YAML writer for JSON data (the generated manifests): block style, keys in
 * insertion order, two-space indent, strings quoted whenever a plain scalar could be misread.
 */
export const toYaml = (value: unknown): string => `${block(value, 0).join("\n")}\n`

// Plain scalars are limited to a conservative alphabet; anything else is double-quoted.
const plain = /^[A-Za-z_/][A-Za-z0-9 _./()-]*$/
// YAML 1.1 and 1.2 words that a parser would read as booleans or null.
const reserved = /^(y|yes|n|no|true|false|on|off|null)$/i

/** A string as a YAML scalar: plain when unambiguous, else a double-quoted JSON string. */
export const scalarString = (s: string): string => plain.test(s) && !s.endsWith(" ") && !reserved.test(s) ? s : quote(s)

// JSON's escapes are YAML's (lone surrogates are escaped by JSON.stringify already); characters a
// YAML reader may take for line breaks or reject get \u escapes too.
const quote = (s: string): string =>
  JSON.stringify(s).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
  )

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const scalar = (value: unknown): string | undefined => {
  if (value === null) return "null"
  switch (typeof value) {
    case "string":
      return scalarString(value)
    case "boolean":
      return String(value)
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`toYaml: ${value} has no JSON form`)
      return String(value)
    case "object":
      if (Array.isArray(value) && value.length === 0) return "[]"
      if (isRecord(value) && Object.keys(value).length === 0) return "{}"
      return undefined
    default:
      throw new TypeError(`toYaml: a ${typeof value} has no JSON form`)
  }
}

const block = (value: unknown, indent: number): ReadonlyArray<string> => {
  const pad = " ".repeat(indent)
  const inline = scalar(value)
  if (inline !== undefined) return [`${pad}${inline}`]
  if (Array.isArray(value)) {
    return value.flatMap((item: unknown) => {
      const [first = "", ...rest] = block(item, indent + 2)
      return [`${pad}- ${first.slice(indent + 2)}`, ...rest]
    })
  }
  if (!isRecord(value)) throw new TypeError("toYaml: unreachable")
  return Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .flatMap(([key, v]) => {
      const head = `${pad}${scalarString(key)}:`
      const inlineValue = scalar(v)
      return inlineValue !== undefined ? [`${head} ${inlineValue}`] : [head, ...block(v, indent + 2)]
    })
}
