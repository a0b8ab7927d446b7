import type { Schema } from "effect"
import { Data, Option, SchemaAST as AST } from "effect"

import { group, version } from "../common.ts"
import type { KindInfo } from "../index.ts"
import { kindList } from "../index.ts"
import { toYaml } from "./yaml.ts"

/**
 * A node of a structural OpenAPI v3 schema, the subset apiextensions.k8s.io/v1 accepts: every node
 * has a `type` (or preserves unknown fields), no `$ref`, no `additionalProperties: false`.
 */
export interface OpenApiSchema {
  readonly type?: "object" | "array" | "string" | "integer" | "number" | "boolean"
  readonly description?: string
  readonly format?: string
  readonly pattern?: string
  readonly enum?: ReadonlyArray<string | number | boolean>
  readonly default?: unknown
  readonly minimum?: number
  readonly maximum?: number
  readonly minLength?: number
  readonly maxLength?: number
  readonly minItems?: number
  readonly maxItems?: number
  readonly items?: OpenApiSchema
  readonly properties?: Readonly<Record<string, OpenApiSchema>>
  readonly required?: ReadonlyArray<string>
  readonly additionalProperties?: OpenApiSchema
  readonly "x-kubernetes-preserve-unknown-fields"?: true
}

/** A schema shape with no structural OpenAPI form; a defect in src/api, caught by its tests. */
export class UnsupportedSchemaError extends Data.TaggedError("UnsupportedSchemaError")<{
  readonly schema: string
  readonly reason: string
}> {
  override get message() {
    return `cannot publish ${this.schema} in a CRD: ${this.reason}`
  }
}

const unsupported = (ast: AST.AST, reason: string): never => {
  throw new UnsupportedSchemaError({ schema: String(ast), reason })
}

// Stable key order for every node, so the generated YAML only changes when a schema does.
const keyOrder: ReadonlyArray<keyof OpenApiSchema> = [
  "type",
  "description",
  "format",
  "pattern",
  "enum",
  "default",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "items",
  "properties",
  "required",
  "additionalProperties",
  "x-kubernetes-preserve-unknown-fields"
]

const ordered = (node: OpenApiSchema): OpenApiSchema =>
  Object.fromEntries(keyOrder.flatMap((key) => node[key] === undefined ? [] : [[key, node[key]]]))

// Constraints a refinement may publish through its `jsonSchema` annotation (Schema.Int, pattern, ...).
const constraintKeys = new Set([
  "type",
  "format",
  "pattern",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems"
])

// Effect's own keywords carry descriptions such as "a string"; only descriptions written in src/api count.
const keywordDescriptions = new Set(["a string", "a number", "a boolean", "unknown", "any"])

const ownDescription = (ast: AST.AST): string | undefined => {
  if (AST.isRefinement(ast)) return undefined
  const description = Option.getOrUndefined(AST.getDescriptionAnnotation(ast))
  return description !== undefined && !keywordDescriptions.has(description) ? description : undefined
}

const withDescription = (node: OpenApiSchema, description: string | undefined): OpenApiSchema =>
  description === undefined ? node : { ...node, description }

const literalType = (ast: AST.AST, literal: AST.LiteralValue): "string" | "number" | "boolean" => {
  switch (typeof literal) {
    case "string":
      return "string"
    case "number":
      return "number"
    case "boolean":
      return "boolean"
    default:
      return unsupported(ast, "only string, number and boolean literals have an OpenAPI form")
  }
}

const enumSchema = (ast: AST.AST, literals: ReadonlyArray<AST.LiteralValue>): OpenApiSchema => {
  const types = new Set(literals.map((literal) => literalType(ast, literal)))
  const [type] = types
  if (type === undefined || types.size > 1) return unsupported(ast, "an enum mixes literal types")
  return {
    type,
    enum: literals.filter((literal): literal is string | number | boolean =>
      literal !== null && typeof literal !== "bigint"
    )
  }
}

const unionSchema = (ast: AST.Union): OpenApiSchema => {
  // `undefined` members come from optional fields; absence is expressed by `required` instead.
  const members = ast.types.filter((member) => !AST.isUndefinedKeyword(member))
  const [only] = members
  if (members.length === 1 && only !== undefined) return toOpenApi(only)
  if (members.every(AST.isLiteral)) return enumSchema(ast, members.map((member) => member.literal))
  return unsupported(ast, "a union of non-literals is not structural")
}

const refinementSchema = (ast: AST.Refinement): OpenApiSchema => {
  const constraints = Option.getOrElse(AST.getJSONSchemaAnnotation(ast), () => ({}))
  for (const key of Object.keys(constraints)) {
    if (!constraintKeys.has(key)) unsupported(ast, `the constraint ${key} has no structural OpenAPI v3 form`)
  }
  return { ...toOpenApi(ast.from), ...constraints }
}

const arraySchema = (ast: AST.TupleType): OpenApiSchema => {
  const [rest] = ast.rest
  if (ast.elements.length > 0 || ast.rest.length !== 1 || rest === undefined) {
    return unsupported(ast, "tuples have no structural form; use an array")
  }
  return { type: "array", items: toOpenApi(rest.type) }
}

/**
 * An object. `decoded` is the Type side of a struct with defaults: it carries the descriptions of
 * fields with defaults, and the transformation yields the default values themselves.
 */
const objectSchema = (ast: AST.TypeLiteral, decoded?: AST.Transformation): OpenApiSchema => {
  const decodedFields = new Map<PropertyKey, AST.PropertySignature>(
    decoded !== undefined && AST.isTypeLiteral(decoded.to) ? decoded.to.propertySignatures.map((p) => [p.name, p]) : []
  )
  const defaults = new Map<PropertyKey, AST.PropertySignatureTransformation>(
    decoded !== undefined && AST.isTypeLiteralTransformation(decoded.transformation)
      ? decoded.transformation.propertySignatureTransformations.map((t) => [t.from, t])
      : []
  )
  const properties: Array<[string, OpenApiSchema]> = []
  const required: Array<string> = []
  for (const field of ast.propertySignatures) {
    if (typeof field.name !== "string") return unsupported(ast, "only string keys have a JSON form")
    const value = toOpenApi(field.type)
    const decodedField = decodedFields.get(field.name)
    const description = Option.getOrUndefined(AST.getDescriptionAnnotation(field)) ??
      (decodedField === undefined ? undefined : Option.getOrUndefined(AST.getDescriptionAnnotation(decodedField)))
    // What decoding puts in place of an absent field; Ark's defaults encode to themselves.
    const fallback = Option.flatMap(Option.fromNullable(defaults.get(field.name)), (t) => t.decode(Option.none()))
    properties.push([field.name, {
      ...withDescription(value, description ?? value.description),
      ...Option.match(fallback, { onNone: () => ({}), onSome: (value) => ({ default: value }) })
    }])
    if (!field.isOptional) required.push(field.name)
  }
  const [index, ...moreIndexes] = ast.indexSignatures
  const node: OpenApiSchema = {
    type: "object",
    ...(properties.length > 0 ? { properties: Object.fromEntries(properties.map(([k, v]) => [k, ordered(v)])) } : {}),
    ...(required.length > 0 ? { required } : {})
  }
  if (index === undefined) return node
  if (moreIndexes.length > 0 || !AST.isStringKeyword(index.parameter)) {
    return unsupported(ast, "only one string-keyed record has an OpenAPI form")
  }
  const values = toOpenApi(index.type)
  // Structural schemas forbid properties and additionalProperties together: a record with known
  // fields, or of arbitrary values, keeps what it is given instead.
  return properties.length > 0 || values.type === undefined
    ? { ...node, "x-kubernetes-preserve-unknown-fields": true }
    : { ...node, additionalProperties: ordered(values) }
}

/** The structural OpenAPI v3 schema of a Schema's encoded (JSON) form. */
export const toOpenApi = (ast: AST.AST): OpenApiSchema => {
  const node = ((): OpenApiSchema => {
    switch (ast._tag) {
      case "StringKeyword":
        return { type: "string" }
      case "NumberKeyword":
        return { type: "number" }
      case "BooleanKeyword":
        return { type: "boolean" }
      case "UnknownKeyword":
      case "AnyKeyword":
        return { "x-kubernetes-preserve-unknown-fields": true }
      case "Literal":
        return enumSchema(ast, [ast.literal])
      case "Union":
        return unionSchema(ast)
      case "Refinement":
        return refinementSchema(ast)
      case "TupleType":
        return arraySchema(ast)
      case "TypeLiteral":
        return objectSchema(ast)
      case "Transformation":
        return AST.isTypeLiteral(ast.from) ? objectSchema(ast.from, ast) : toOpenApi(ast.from)
      case "Suspend":
        return toOpenApi(ast.f())
      default:
        return unsupported(ast, `${ast._tag} has no JSON form`)
    }
  })()
  return ordered(withDescription(node, ownDescription(ast) ?? node.description))
}

/**
 * The openAPIV3Schema of a whole resource. apiVersion, kind and metadata are the API server's:
 * Kubernetes forbids constraining metadata beyond name/generateName, so it is a bare object.
 */
export const resourceSchema = (schema: Schema.Schema.AnyNoContext): OpenApiSchema => {
  const root = toOpenApi(schema.ast)
  const { apiVersion: _apiVersion, kind: _kind, metadata: _metadata, ...rest } = root.properties ?? {}
  const required = (root.required ?? []).filter((name) => !["apiVersion", "kind", "metadata"].includes(name))
  return ordered({
    type: "object",
    ...(root.description !== undefined ? { description: root.description } : {}),
    properties: {
      apiVersion: {
        type: "string",
        description: "The versioned schema of this representation of an object."
      },
      kind: { type: "string", description: "The REST resource this object represents." },
      metadata: { type: "object" },
      ...rest
    },
    ...(required.length > 0 ? { required } : {})
  })
}

/** The CustomResourceDefinition of one kind, as plain JSON. */
export const customResourceDefinition = (info: KindInfo) => {
  const openAPIV3Schema = resourceSchema(info.schema)
  const hasStatus = openAPIV3Schema.properties?.["status"] !== undefined
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${info.plural}.${group}`,
      labels: { component: "ark" }
    },
    spec: {
      group,
      names: {
        kind: info.kind,
        listKind: info.listKind,
        plural: info.plural,
        singular: info.singular,
        ...(info.shortNames.length > 0 ? { shortNames: info.shortNames } : {}),
        categories: ["ark"]
      },
      scope: "Namespaced",
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          ...(hasStatus ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: info.printerColumns,
          schema: { openAPIV3Schema }
        }
      ]
    }
  }
}

export interface ManifestFile {
  /** Relative to manifests/crds/. */
  readonly name: string
  readonly content: string
}

const header = "# Generated from src/api by `npm run gen:manifests`. Do not edit.\n"

export const crdFileName = (info: KindInfo): string => `${info.plural}.${group}.yaml`

/** Every file of manifests/crds/: one CRD per kind, and the kustomization listing them. */
export const renderCrdFiles = (kinds: ReadonlyArray<KindInfo> = kindList): ReadonlyArray<ManifestFile> => [
  ...kinds.map((info) => ({ name: crdFileName(info), content: header + toYaml(customResourceDefinition(info)) })),
  {
    name: "kustomization.yaml",
    content: header + toYaml({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: kinds.map((info) => crdFileName(info))
    })
  }
]
