// Velero's resource modifiers (internal/resourcemodifiers), version v1: the YAML a ConfigMap holds,
// parsed and checked whole, so a bad rule is refused when the restore is created, naming the rule.
import { Either, Schema } from "effect"
import { CORE_SCHEMA, load } from "js-yaml"

import type { KubeObject } from "../../../services/KubeClient.ts"
import { LabelSelector } from "../../api/common.ts"
import type { JsonRecord } from "../../kube/json.ts"
import { isRecord } from "../../kube/json.ts"
import type { Selector } from "../../kube/labelSelector.ts"
import { fromLabelSelector } from "../../kube/labelSelector.ts"
import type { JsonPatchOperation } from "../../kube/patch.ts"
import { parsePointer } from "../../kube/patch.ts"
import { compileGlob } from "./glob.ts"

export type RulePatch =
  | { readonly _tag: "JsonPatch"; readonly operations: ReadonlyArray<JsonPatchOperation> }
  | { readonly _tag: "MergePatch"; readonly patches: ReadonlyArray<JsonRecord> }
  | { readonly _tag: "StrategicPatch"; readonly patches: ReadonlyArray<JsonRecord> }

/** One rule, compiled: its conditions and what it does to the objects that meet them. */
export interface ModifierRule {
  /** `resourceModifierRules[i]`, as errors name it. */
  readonly name: string
  readonly groupResource: RegExp
  /** Globs; empty means every namespace. */
  readonly namespaces: ReadonlyArray<RegExp>
  readonly resourceName?: RegExp
  readonly labels?: Selector
  /** `matches` as JSON Patch `test` operations: all must pass. */
  readonly matches: ReadonlyArray<JsonPatchOperation>
  readonly patch: RulePatch
}

export interface ResourceModifiers {
  readonly rules: ReadonlyArray<ModifierRule>
}

const operations = new Set(["add", "remove", "replace", "move", "copy", "test"])

/**
 * A patch or match `value` as Velero reads it: the YAML scalar's text, taken as JSON when it is
 * null, a boolean, a number, an object or a list, and as a string otherwise (or when quoted as
 * `"\"3\""`, to keep a number a string).
 */
export const patchValue = (raw: string): Either.Either<unknown, string> => {
  if (raw === "") return Either.right("")
  if (raw.length >= 2 && raw.startsWith("\"") && raw.endsWith("\"")) return Either.right(raw.slice(1, -1))
  if (raw === "null") return Either.right(null)
  if (/^(true|false)$/i.test(raw)) return Either.right(raw.toLowerCase() === "true")
  if (raw.startsWith("{") || raw.startsWith("[")) {
    try {
      return Either.right(JSON.parse(raw))
    } catch {
      return Either.left(`value ${raw} starts like JSON but is not valid JSON`)
    }
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) return Either.right(Number(raw))
  return Either.right(raw)
}

const scalarText = (value: unknown): string | undefined =>
  value === null || value === undefined
    ? ""
    : typeof value === "string"
    ? value
    : typeof value === "number" || typeof value === "boolean"
    ? String(value)
    : undefined

/** Go's RE2 syntax mostly is JavaScript's; a leading `(?i)`/`(?s)`/`(?m)` becomes a flag. */
const compileRegex = (source: string): Either.Either<RegExp, string> => {
  const flags = /^\(\?([ims]+)\)/.exec(source)
  try {
    return Either.right(flags === null ? new RegExp(source) : new RegExp(source.slice(flags[0].length), flags[1]))
  } catch (error) {
    return Either.left(`resourceNameRegex "${source}" is not a valid regular expression: ${(error as Error).message}`)
  }
}

const decodeSelector = Schema.decodeUnknownEither(LabelSelector, { onExcessProperty: "error" })

class RuleProblem extends Error {}

const unknownKeys = (record: JsonRecord, known: ReadonlyArray<string>, where: string) => {
  const extra = Object.keys(record).filter((key) => !known.includes(key))
  if (extra.length > 0) {
    throw new RuleProblem(
      `${where}unknown field${extra.length > 1 ? "s" : ""} ${extra.map((k) => `"${k}"`).join(", ")}`
    )
  }
}

const get = <A>(result: Either.Either<A, string>, where = ""): A => {
  if (Either.isLeft(result)) throw new RuleProblem(`${where}${result.left}`)
  return result.right
}

const list = (value: unknown, field: string): ReadonlyArray<unknown> => {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw new RuleProblem(`${field} must be a list`)
  return value
}

const text = (value: unknown, field: string): string => {
  const scalar = scalarText(value)
  if (scalar === undefined) {
    throw new RuleProblem(
      `${field} must be a string (write JSON objects and lists as a quoted string, e.g. '{"a": 1}')`
    )
  }
  return scalar
}

const pointer = (path: string, field: string): string => {
  if (path === "") throw new RuleProblem(`${field} is required`)
  get(Either.mapLeft(parsePointer(path), (problem) => problem), `${field}: `)
  return path
}

const jsonPatchOperation = (value: unknown, field: string): JsonPatchOperation => {
  if (!isRecord(value)) throw new RuleProblem(`${field} must be a map with operation, path and value`)
  unknownKeys(value, ["operation", "path", "value", "from"], `${field}: `)
  const op = text(value["operation"], `${field}.operation`).toLowerCase()
  if (op === "") throw new RuleProblem(`${field}.operation is required`)
  if (!operations.has(op)) {
    throw new RuleProblem(`${field}.operation "${op}" is not one of add, remove, replace, move, copy, test`)
  }
  const path = pointer(text(value["path"], `${field}.path`), `${field}.path`)
  const from = value["from"] === undefined ? undefined : pointer(text(value["from"], `${field}.from`), `${field}.from`)
  if ((op === "move" || op === "copy") && from === undefined) {
    throw new RuleProblem(`${field}.from is required for ${op}`)
  }
  const operation = { op, path, ...(from === undefined ? {} : { from }) }
  if (op === "remove" || op === "move" || op === "copy") return operation
  return { ...operation, value: get(patchValue(text(value["value"], `${field}.value`)), `${field}.value: `) }
}

const patchData = (value: unknown, field: string): JsonRecord => {
  if (!isRecord(value)) throw new RuleProblem(`${field} must be a map with patchData`)
  unknownKeys(value, ["patchData"], `${field}: `)
  const data = text(value["patchData"], `${field}.patchData`)
  let parsed: unknown
  try {
    parsed = load(data, { schema: CORE_SCHEMA })
  } catch (error) {
    throw new RuleProblem(`${field}.patchData is neither JSON nor YAML: ${(error as Error).message.split("\n")[0]}`)
  }
  if (!isRecord(parsed)) throw new RuleProblem(`${field}.patchData must be a map (a JSON object)`)
  return parsed
}

const rulePatch = (rule: JsonRecord): RulePatch => {
  const given = (["patches", "mergePatches", "strategicPatches"] as const).filter((key) =>
    list(rule[key], key).length > 0
  )
  if (given.length === 0) throw new RuleProblem("has no patches, mergePatches or strategicPatches")
  if (given.length > 1) {
    throw new RuleProblem(
      `only one of patches, mergePatches, strategicPatches can be given, not ${given.join(" and ")}`
    )
  }
  switch (given[0]!) {
    case "patches":
      return {
        _tag: "JsonPatch",
        operations: list(rule["patches"], "patches").map((op, i) => jsonPatchOperation(op, `patches[${i}]`))
      }
    case "mergePatches":
      return {
        _tag: "MergePatch",
        patches: list(rule["mergePatches"], "mergePatches").map((p, i) => patchData(p, `mergePatches[${i}]`))
      }
    case "strategicPatches":
      return {
        _tag: "StrategicPatch",
        patches: list(rule["strategicPatches"], "strategicPatches").map((p, i) =>
          patchData(p, `strategicPatches[${i}]`)
        )
      }
  }
}

const compileRule = (value: unknown, name: string): ModifierRule => {
  if (!isRecord(value)) throw new RuleProblem("must be a map with conditions and patches")
  unknownKeys(value, ["conditions", "patches", "mergePatches", "strategicPatches"], "")
  const conditions = value["conditions"]
  if (!isRecord(conditions)) throw new RuleProblem("conditions is required (at least conditions.groupResource)")
  unknownKeys(
    conditions,
    ["groupResource", "resourceNameRegex", "namespaces", "labelSelector", "matches"],
    "conditions: "
  )
  const groupResource = text(conditions["groupResource"], "conditions.groupResource")
  if (groupResource === "") {
    throw new RuleProblem("conditions.groupResource is required (e.g. deployments.apps, *.apps, *)")
  }
  const nameRegex = text(conditions["resourceNameRegex"], "conditions.resourceNameRegex")
  const selector = conditions["labelSelector"]
  const decoded = selector === undefined || selector === null ? undefined : decodeSelector(selector)
  if (decoded !== undefined && Either.isLeft(decoded)) {
    throw new RuleProblem("conditions.labelSelector must be a label selector (matchLabels, matchExpressions)")
  }
  const labels = decoded === undefined || Either.isLeft(decoded)
    ? undefined
    : get(Either.mapLeft(fromLabelSelector(decoded.right), (error) => error.message), "conditions.labelSelector: ")
  return {
    name,
    groupResource: get(compileGlob(groupResource, "."), "conditions.groupResource: "),
    namespaces: list(conditions["namespaces"], "conditions.namespaces").map((namespace, i) =>
      get(compileGlob(text(namespace, `conditions.namespaces[${i}]`)), `conditions.namespaces[${i}]: `)
    ),
    ...(nameRegex === "" ? {} : { resourceName: get(compileRegex(nameRegex), "conditions.") }),
    ...(labels === undefined ? {} : { labels }),
    matches: list(conditions["matches"], "conditions.matches").map((match, i) => {
      const field = `conditions.matches[${i}]`
      if (!isRecord(match)) throw new RuleProblem(`${field} must be a map with path and value`)
      unknownKeys(match, ["path", "value"], `${field}: `)
      return {
        op: "test",
        path: pointer(text(match["path"], `${field}.path`), `${field}.path`),
        value: get(patchValue(text(match["value"], `${field}.value`)), `${field}.value: `)
      }
    }),
    patch: rulePatch(value)
  }
}

/** The rules in a document; Left: every problem, each naming its rule. */
export const parseResourceModifiers = (yaml: string): Either.Either<ResourceModifiers, ReadonlyArray<string>> => {
  let document: unknown
  try {
    document = load(yaml, { schema: CORE_SCHEMA })
  } catch (error) {
    return Either.left([`not valid YAML: ${(error as Error).message.split("\n")[0]}`])
  }
  if (!isRecord(document)) return Either.left(["must be a YAML map with version and resourceModifierRules"])
  const problems: Array<string> = []
  const extra = Object.keys(document).filter((key) => key !== "version" && key !== "resourceModifierRules")
  if (extra.length > 0) problems.push(`unknown field ${extra.map((key) => `"${key}"`).join(", ")}`)
  const version = scalarText(document["version"]) ?? ""
  if (version.toLowerCase() !== "v1") {
    problems.push(`version ${JSON.stringify(document["version"] ?? "")} is not supported (only v1)`)
  }
  const rawRules = document["resourceModifierRules"]
  if (!Array.isArray(rawRules) || rawRules.length === 0) {
    problems.push("resourceModifierRules must be a non-empty list")
    return Either.left(problems)
  }
  const rules: Array<ModifierRule> = []
  rawRules.forEach((raw, index) => {
    const name = `resourceModifierRules[${index}]`
    try {
      rules.push(compileRule(raw, name))
    } catch (problem) {
      if (!(problem instanceof RuleProblem)) throw problem
      problems.push(`${name}: ${problem.message}`)
    }
  })
  return problems.length > 0 ? Either.left(problems) : Either.right({ rules })
}

/** Velero's layout: a ConfigMap with exactly one key, whose value is the rules' YAML. */
export const resourceModifiersOf = (configMap: KubeObject): Either.Either<ResourceModifiers, ReadonlyArray<string>> => {
  const data = isRecord(configMap["data"]) ? Object.values(configMap["data"]) : []
  if (data.length !== 1 || typeof data[0] !== "string") {
    return Either.left([`must hold exactly one key, the rules' YAML (it holds ${data.length})`])
  }
  return parseResourceModifiers(data[0])
}
