// Field selectors (`?fieldSelector=metadata.name=x,status.phase!=Running`), k8s.io/apimachinery
// pkg/fields: only equality and inequality, comma = AND, `\` escapes `,`, `=`, `!` and `\`.
import { Data, Either } from "effect"

export class FieldSelectorError extends Data.TaggedError("FieldSelectorError")<{
  readonly selector: string
  readonly message: string
}> {}

export interface FieldRequirement {
  readonly field: string
  readonly operator: "=" | "!="
  readonly value: string
}

export type FieldSelector = ReadonlyArray<FieldRequirement>

/** Splits on `separator` where it is not escaped, keeping escapes for a later unescape. */
const splitUnescaped = (input: string, separator: string): Array<string> => {
  const parts: Array<string> = []
  let current = ""
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!
    if (c === "\\" && i + 1 < input.length) {
      current += c + input[i + 1]
      i++
    } else if (c === separator) {
      parts.push(current)
      current = ""
    } else {
      current += c
    }
  }
  parts.push(current)
  return parts
}

const unescape = (value: string): Either.Either<string, string> => {
  let out = ""
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!
    if (c === "\\") {
      const escaped = value[i + 1]
      if (escaped === undefined || !"\\,=!".includes(escaped)) return Either.left(`invalid escape in "${value}"`)
      out += escaped
      i++
    } else if (c === "=" || c === "!" || c === ",") {
      return Either.left(`unescaped '${c}' in "${value}"`)
    } else {
      out += c
    }
  }
  return Either.right(out)
}

export const parseFieldSelector = (selector: string): Either.Either<FieldSelector, FieldSelectorError> => {
  const fail = (message: string) => Either.left(new FieldSelectorError({ selector, message }))
  if (selector.trim() === "") return Either.right([])
  const requirements: Array<FieldRequirement> = []
  for (const term of splitUnescaped(selector, ",")) {
    const match = /^([^=!\\]+?)\s*(!=|==|=)(.*)$/.exec(term)
    if (match === null) return fail(`invalid field selector term "${term}": expected field=value or field!=value`)
    const value = unescape(match[3]!)
    if (Either.isLeft(value)) return fail(value.left)
    requirements.push({ field: match[1]!.trim(), operator: match[2] === "!=" ? "!=" : "=", value: value.right })
  }
  return Either.right(requirements)
}

/** True when every requirement holds; `fields` are the object's selectable fields (absent = ""). */
export const matchesFields = (selector: FieldSelector, fields: Readonly<Record<string, string>>): boolean =>
  selector.every((requirement) =>
    requirement.operator === "="
      ? (fields[requirement.field] ?? "") === requirement.value
      : (fields[requirement.field] ?? "") !== requirement.value
  )
