import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { loadYaml } from "@kubernetes/client-node"
import { Effect, Schema } from "effect"

import { kindList } from "../../src/api/index.ts"
import type { OpenApiSchema } from "../../src/api/manifests/crd.ts"
import {
  customResourceDefinition,
  renderCrdFiles,
  resourceSchema,
  toOpenApi,
  UnsupportedSchemaError
} from "../../src/api/manifests/crd.ts"
import { crdDirectory } from "../../src/api/manifests/main.ts"
import { nodes, violations } from "./openapi.ts"

const crds = kindList.map((info) => ({ info, crd: customResourceDefinition(info) }))

describe("manifests/crds", () => {
  it.effect("match the schemas (run npm run gen:manifests after changing src/api)", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const directory = yield* crdDirectory
      const expected = renderCrdFiles()
      const onDisk = (yield* fs.readDirectory(directory)).filter((name) => name.endsWith(".yaml")).sort()
      assert.deepStrictEqual(
        onDisk,
        expected.map((file) => file.name).sort(),
        "manifests/crds/ has other files than the schemas produce: run npm run gen:manifests"
      )
      for (const file of expected) {
        const content = yield* fs.readFileString(path.join(directory, file.name))
        assert.strictEqual(content, file.content, `${file.name} is stale: run npm run gen:manifests`)
      }
    }).pipe(Effect.provide(NodeContext.layer)))

  it("are YAML that reads back as the CRD objects", () => {
    for (const [i, { crd }] of crds.entries()) {
      const file = renderCrdFiles()[i]
      assert.isDefined(file)
      assert.deepStrictEqual(loadYaml(file?.content ?? ""), loadYaml(JSON.stringify(crd)))
    }
  })

  it("list every CRD in the kustomization", () => {
    const kustomization = renderCrdFiles().find((file) => file.name === "kustomization.yaml")
    assert.include(kustomization?.content ?? "", "kind: Kustomization")
    for (const info of kindList) assert.include(kustomization?.content ?? "", `  - ${info.plural}.ark.heptio.com.yaml`)
  })
})

describe("CustomResourceDefinition", () => {
  for (const { info, crd } of crds) {
    const schema = crd.spec.versions[0]?.schema.openAPIV3Schema ?? {}

    it(`${info.kind}: names, scope and version`, () => {
      assert.strictEqual(crd.metadata.name, `${info.plural}.ark.heptio.com`)
      assert.strictEqual(crd.spec.group, "ark.heptio.com")
      assert.strictEqual(crd.spec.scope, "Namespaced")
      assert.deepStrictEqual(crd.spec.names.categories, ["ark"])
      assert.strictEqual(crd.spec.names.listKind, `${info.kind}List`)
      assert.strictEqual(crd.spec.versions.length, 1)
      const [v1] = crd.spec.versions
      assert.deepInclude(v1, { name: "v1", served: true, storage: true, subresources: { status: {} } })
    })

    it(`${info.kind}: the openAPIV3Schema is structural`, () => {
      const text = JSON.stringify(schema)
      for (const forbidden of ["$ref", "$defs", "anyOf", "oneOf", "allOf", "\"not\"", "nullable"]) {
        assert.notInclude(text, forbidden)
      }
      for (const [path, node] of nodes(schema)) {
        assert.isTrue(
          node.type !== undefined || node["x-kubernetes-preserve-unknown-fields"] === true,
          `${path} has neither a type nor x-kubernetes-preserve-unknown-fields`
        )
        assert.notStrictEqual(node.additionalProperties, false as unknown, `${path}: additionalProperties: false`)
        assert.isFalse(
          node.properties !== undefined && node.additionalProperties !== undefined,
          `${path}: properties and additionalProperties together`
        )
        for (const name of node.required ?? []) {
          assert.property(node.properties ?? {}, name, `${path}: required ${name}`)
        }
        if (node.default !== undefined) {
          assert.deepStrictEqual(violations(node, node.default), [], `${path}: its default does not validate`)
        }
      }
      assert.deepStrictEqual(schema.properties?.["metadata"], { type: "object" })
    })

    it(`${info.kind}: printer columns point at fields of the schema`, () => {
      for (const column of info.printerColumns) {
        const field = column.jsonPath.split(".").slice(1).reduce<OpenApiSchema | undefined>(
          (node, key) => node?.properties?.[key],
          schema
        )
        if (column.jsonPath === ".metadata.creationTimestamp") continue
        assert.isDefined(field, `${column.name}: ${column.jsonPath} is not in the schema`)
        const expectedType = column.type === "date" ? "string" : column.type
        assert.strictEqual(field?.type, expectedType, `${column.name}: ${column.jsonPath}`)
        if (column.type === "date") assert.strictEqual(field?.format, "date-time")
      }
    })
  }
})

describe("toOpenApi", () => {
  it("publishes defaults and descriptions of fields with defaults", () => {
    const spec = Schema.Struct({
      ttl: Schema.optionalWith(Schema.String, { exact: true, default: () => "720h" }).annotations({
        description: "kept"
      }),
      name: Schema.String
    })
    assert.deepStrictEqual(toOpenApi(spec.ast), {
      type: "object",
      properties: { ttl: { type: "string", description: "kept", default: "720h" }, name: { type: "string" } },
      required: ["name"]
    })
  })

  it("maps literal unions to enums, records to additionalProperties, unknown to preserved fields", () => {
    assert.deepStrictEqual(toOpenApi(Schema.Literal("a", "b").ast), { type: "string", enum: ["a", "b"] })
    assert.deepStrictEqual(toOpenApi(Schema.Record({ key: Schema.String, value: Schema.Int }).ast), {
      type: "object",
      additionalProperties: { type: "integer" }
    })
    assert.deepStrictEqual(toOpenApi(Schema.Record({ key: Schema.String, value: Schema.Unknown }).ast), {
      type: "object",
      "x-kubernetes-preserve-unknown-fields": true
    })
    assert.deepStrictEqual(toOpenApi(Schema.Unknown.ast), { "x-kubernetes-preserve-unknown-fields": true })
  })

  it("refuses shapes with no structural form", () => {
    const unsupported = [
      Schema.Union(Schema.String, Schema.Struct({ a: Schema.String })),
      Schema.Tuple(Schema.String, Schema.Number),
      Schema.Literal("a", 1),
      Schema.Number.pipe(Schema.positive())
    ]
    for (const schema of unsupported) {
      assert.throws(() => toOpenApi(schema.ast), UnsupportedSchemaError)
    }
  })

  it("requires spec but leaves apiVersion, kind and metadata to the API server", () => {
    for (const info of kindList) {
      const schema = resourceSchema(info.schema)
      assert.deepStrictEqual(schema.required, ["spec"])
      assert.deepStrictEqual(Object.keys(schema.properties ?? {}), ["apiVersion", "kind", "metadata", "spec", "status"])
    }
  })
})
