// Kubernetes label selectors: the string syntax of `?labelSelector=` (k8s.io/apimachinery
// pkg/labels) and the metav1.LabelSelector object that Backups, Restores and hooks carry.
import { Data, Either } from "effect"

export class LabelSelectorError extends Data.TaggedError("LabelSelectorError")<{
  readonly selector: string
  readonly message: string
}> {}

export type Operator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt"

export interface Requirement {
  readonly key: string
  readonly operator: Operator
  /** One value for `=`, `==`, `!=`, `gt`, `lt`; the set for `in`, `notin`; none for `exists`, `!`. */
  readonly values: ReadonlyArray<string>
}

/** Requirements that must all hold; empty matches everything. */
export type Selector = ReadonlyArray<Requirement>

/** metav1.LabelSelector. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>
  readonly matchExpressions?: ReadonlyArray<{
    readonly key: string
    readonly operator: string
    readonly values?: ReadonlyArray<string>
  }>
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const INTEGER = /^-?[0-9]+$/

/** Why a label key is invalid (a qualified name: `[prefix/]name`), or undefined when valid. */
export const labelKeyProblem = (key: string): string | undefined => {
  const slash = key.indexOf("/")
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined
  const name = slash >= 0 ? key.slice(slash + 1) : key
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `invalid label key "${key}": the prefix must be a DNS subdomain`
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `invalid label key "${key}": the name must be 63 characters or less, alphanumeric, '-', '_' or '.', ` +
      "starting and ending with an alphanumeric character"
  }
  return undefined
}

/** Why a label value is invalid, or undefined when valid (empty is valid). */
export const labelValueProblem = (value: string): string | undefined =>
  value.length === 0 || (value.length <= 63 && NAME.test(value))
    ? undefined
    : `invalid label value "${value}": must be 63 characters or less, alphanumeric, '-', '_' or '.', ` +
      "starting and ending with an alphanumeric character"

type Token =
  | { readonly kind: "identifier"; readonly text: string }
  | { readonly kind: "!" | "!=" | "=" | "==" | "," | "(" | ")" | ">" | "<" | "end" }

const OPERATOR_CHARS = "!=,()<>"
const isSpace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r"

const tokenize = (input: string): Array<Token> => {
  const tokens: Array<Token> = []
  let i = 0
  while (i < input.length) {
    const c = input[i]!
    if (isSpace(c)) {
      i++
    } else if (c === "!" || c === "=") {
      if (input[i + 1] === "=") {
        tokens.push({ kind: c === "!" ? "!=" : "==" })
        i += 2
      } else {
        tokens.push({ kind: c })
        i++
      }
    } else if (c === "," || c === "(" || c === ")" || c === ">" || c === "<") {
      tokens.push({ kind: c })
      i++
    } else {
      let j = i
      while (j < input.length && !isSpace(input[j]!) && !OPERATOR_CHARS.includes(input[j]!)) j++
      tokens.push({ kind: "identifier", text: input.slice(i, j) })
      i = j
    }
  }
  tokens.push({ kind: "end" })
  return tokens
}

const describe = (token: Token) =>
  token.kind === "identifier" ? `"${token.text}"` : token.kind === "end" ? "end of string" : `'${token.kind}'`

/** Parses the string syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`; comma = AND. */
export const parseLabelSelector = (selector: string): Either.Either<Selector, LabelSelectorError> => {
  const tokens = tokenize(selector)
  let at = 0
  const peek = () => tokens[at]!
  const next = () => tokens[at++]!
  const fail = (message: string) => Either.left(new LabelSelectorError({ selector, message }))
  const requirements: Array<Requirement> = []

  const parseValueSet = (): Either.Either<Array<string>, LabelSelectorError> => {
    const open = next()
    if (open.kind !== "(") return fail(`expected '(' but found ${describe(open)}`)
    const values: Array<string> = []
    // An empty element (`(a,,b)`) is the empty value, as in apimachinery.
    let expectValue = true
    for (;;) {
      const token = next()
      if (token.kind === "identifier" && expectValue) {
        values.push(token.text)
        expectValue = false
      } else if (token.kind === ",") {
        if (expectValue) values.push("")
        expectValue = true
      } else if (token.kind === ")") {
        if (expectValue && values.length > 0) values.push("")
        return Either.right(values)
      } else {
        return fail(`expected a value, ',' or ')' but found ${describe(token)}`)
      }
    }
  }

  for (;;) {
    if (peek().kind === "end" && requirements.length === 0) break
    const first = next()
    if (first.kind === "!") {
      const key = next()
      if (key.kind !== "identifier") return fail(`expected a key after '!' but found ${describe(key)}`)
      requirements.push({ key: key.text, operator: "!", values: [] })
    } else if (first.kind === "identifier") {
      const operator = peek()
      if (operator.kind === "end" || operator.kind === ",") {
        requirements.push({ key: first.text, operator: "exists", values: [] })
      } else if (operator.kind === "identifier" && (operator.text === "in" || operator.text === "notin")) {
        next()
        const values = parseValueSet()
        if (Either.isLeft(values)) return Either.left(values.left)
        if (values.right.length === 0) {
          return fail(`for 'in' and 'notin' the set of values of "${first.text}" can't be empty`)
        }
        requirements.push({ key: first.text, operator: operator.text, values: values.right })
      } else if (operator.kind === "=" || operator.kind === "==" || operator.kind === "!=") {
        next()
        const value = peek()
        if (value.kind === "identifier") {
          next()
          requirements.push({ key: first.text, operator: operator.kind, values: [value.text] })
        } else if (value.kind === "end" || value.kind === ",") {
          requirements.push({ key: first.text, operator: operator.kind, values: [""] })
        } else {
          return fail(`expected a value after '${operator.kind}' but found ${describe(value)}`)
        }
      } else if (operator.kind === ">" || operator.kind === "<") {
        next()
        const value = next()
        if (value.kind !== "identifier" || !INTEGER.test(value.text)) {
          return fail(`for '${operator.kind}' the value must be an integer, found ${describe(value)}`)
        }
        requirements.push({ key: first.text, operator: operator.kind === ">" ? "gt" : "lt", values: [value.text] })
      } else {
        return fail(`expected an operator after "${first.text}" but found ${describe(operator)}`)
      }
    } else {
      return fail(`expected a key or '!' but found ${describe(first)}`)
    }
    const separator = next()
    if (separator.kind === "end") break
    if (separator.kind !== ",") return fail(`expected ',' or end of string but found ${describe(separator)}`)
  }

  for (const requirement of requirements) {
    const problem = labelKeyProblem(requirement.key) ??
      (requirement.operator === "gt" || requirement.operator === "lt"
        ? undefined
        : requirement.values.map(labelValueProblem).find((p) => p !== undefined))
    if (problem !== undefined) return fail(problem)
  }
  return Either.right(canonical(requirements))
}

/** Sorted by key, set values sorted, as apimachinery keeps them. */
const canonical = (requirements: ReadonlyArray<Requirement>): Selector =>
  requirements
    .map((requirement) => ({ ...requirement, values: [...requirement.values].sort(compareStrings) }))
    .sort((a, b) => compareStrings(a.key, b.key))

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

export const matchesRequirement = (requirement: Requirement, labels: Readonly<Record<string, string>>): boolean => {
  const has = Object.hasOwn(labels, requirement.key)
  const value = labels[requirement.key]
  switch (requirement.operator) {
    case "exists":
      return has
    case "!":
      return !has
    case "=":
    case "==":
    case "in":
      return has && requirement.values.includes(value!)
    case "!=":
    case "notin":
      return !has || !requirement.values.includes(value!)
    case "gt":
    case "lt": {
      if (!has || !INTEGER.test(value!)) return false
      const actual = Number(value)
      const bound = Number(requirement.values[0])
      return requirement.operator === "gt" ? actual > bound : actual < bound
    }
  }
}

/** True when every requirement holds for these labels (missing labels = none). */
export const matchesLabels = (selector: Selector, labels: Readonly<Record<string, string>> | undefined): boolean =>
  selector.every((requirement) => matchesRequirement(requirement, labels ?? {}))

const requirementToString = (requirement: Requirement): string => {
  switch (requirement.operator) {
    case "exists":
      return requirement.key
    case "!":
      return `!${requirement.key}`
    case "in":
    case "notin":
      return `${requirement.key} ${requirement.operator} (${requirement.values.join(",")})`
    case "gt":
      return `${requirement.key}>${requirement.values[0]}`
    case "lt":
      return `${requirement.key}<${requirement.values[0]}`
    default:
      return `${requirement.key}${requirement.operator}${requirement.values[0]}`
  }
}

/** The canonical string form; parsing it gives the same selector back. */
export const selectorToString = (selector: Selector): string => selector.map(requirementToString).join(",")

/** The requirements of a metav1.LabelSelector; an empty object selects everything. */
export const fromLabelSelector = (labelSelector: LabelSelector): Either.Either<Selector, LabelSelectorError> => {
  const requirements: Array<Requirement> = []
  const fail = (message: string) =>
    Either.left(new LabelSelectorError({ selector: JSON.stringify(labelSelector), message }))
  for (const [key, value] of Object.entries(labelSelector.matchLabels ?? {})) {
    requirements.push({ key, operator: "=", values: [value] })
  }
  for (const expression of labelSelector.matchExpressions ?? []) {
    const values = expression.values ?? []
    switch (expression.operator) {
      case "In":
      case "NotIn":
        if (values.length === 0) return fail(`operator ${expression.operator} on "${expression.key}" needs values`)
        requirements.push({ key: expression.key, operator: expression.operator === "In" ? "in" : "notin", values })
        break
      case "Exists":
      case "DoesNotExist":
        if (values.length > 0) return fail(`operator ${expression.operator} on "${expression.key}" takes no values`)
        requirements.push({
          key: expression.key,
          operator: expression.operator === "Exists" ? "exists" : "!",
          values: []
        })
        break
      default:
        return fail(`"${expression.operator}" is not a valid label selector operator`)
    }
  }
  for (const requirement of requirements) {
    const problem = labelKeyProblem(requirement.key) ??
      requirement.values.map(labelValueProblem).find((p) => p !== undefined)
    if (problem !== undefined) return fail(problem)
  }
  return Either.right(canonical(requirements))
}

/** A metav1.LabelSelector as the `labelSelector` query string. */
export const labelSelectorToString = (labelSelector: LabelSelector): Either.Either<string, LabelSelectorError> =>
  Either.map(fromLabelSelector(labelSelector), (selector) => selectorToString(selector))
