// A checker for the structural OpenAPI v3 subset the CRDs use, standing in for the API server's
// validation and pruning: what it reports, a real apiserver would reject or silently drop.
import type { OpenApiSchema } from "../../src/api/manifests/crd.ts"

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const typeOf = (value: unknown): string =>
  value === null
    ? "null"
    : Array.isArray(value)
    ? "array"
    : typeof value === "number" && Number.isInteger(value)
    ? "integer"
    : typeof value

const typeMatches = (type: OpenApiSchema["type"], value: unknown): boolean =>
  type === undefined || type === typeOf(value) || (type === "number" && typeOf(value) === "integer")

/** Every way `value` would be rejected or pruned by `schema`, as `path: problem` lines. */
export const violations = (schema: OpenApiSchema, value: unknown, path = ""): ReadonlyArray<string> => {
  const at = path === "" ? "<root>" : path
  if (!typeMatches(schema.type, value)) return [`${at}: expected ${schema.type}, got ${typeOf(value)}`]
  const problems: Array<string> = []
  if (schema.enum !== undefined && !schema.enum.some((allowed) => allowed === value)) {
    problems.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`)
  }
  if (schema.pattern !== undefined && typeof value === "string" && !new RegExp(schema.pattern, "u").test(value)) {
    problems.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`)
  }
  if (schema.format === "date-time" && typeof value === "string" && Number.isNaN(Date.parse(value))) {
    problems.push(`${at}: ${JSON.stringify(value)} is not a date-time`)
  }
  if (schema.minimum !== undefined && typeof value === "number" && value < schema.minimum) {
    problems.push(`${at}: ${value} is below ${schema.minimum}`)
  }
  if (schema.minItems !== undefined && Array.isArray(value) && value.length < schema.minItems) {
    problems.push(`${at}: fewer than ${schema.minItems} items`)
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    const items = schema.items
    value.forEach((item, i) => problems.push(...violations(items, item, `${path}[${i}]`)))
  }
  if (isRecord(value)) {
    for (const name of schema.required ?? []) {
      if (!(name in value)) problems.push(`${at}: missing required ${name}`)
    }
    for (const [key, field] of Object.entries(value)) {
      const declared = schema.properties?.[key] ?? schema.additionalProperties
      if (declared !== undefined) problems.push(...violations(declared, field, `${path}.${key}`))
      else if (schema["x-kubernetes-preserve-unknown-fields"] !== true) problems.push(`${path}.${key}: would be pruned`)
    }
  }
  return problems
}

/** Every node of a schema with its path: the root, properties, items and additionalProperties. */
export const nodes = (schema: OpenApiSchema, path = "<root>"): ReadonlyArray<readonly [string, OpenApiSchema]> => [
  [path, schema],
  ...Object.entries(schema.properties ?? {}).flatMap(([key, child]) => nodes(child, `${path}.${key}`)),
  ...(schema.items !== undefined ? nodes(schema.items, `${path}[]`) : []),
  ...(schema.additionalProperties !== undefined ? nodes(schema.additionalProperties, `${path}{}`) : [])
]
