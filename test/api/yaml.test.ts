import { assert, describe, it } from "@effect/vitest"
import { loadYaml } from "@kubernetes/client-node"
import { FastCheck as fc } from "effect"

import { toYaml } from "../../src/api/manifests/yaml.ts"

// client-node's loadYaml is js-yaml underneath; an object without apiVersion/kind comes back as parsed.
const parse = (text: string): unknown => loadYaml<unknown>(text)

const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.string({ unit: "grapheme" }),
    fc.string({ unit: "binary" }),
    fc.constantFrom(
      "true",
      "no",
      "Yes",
      "null",
      "~",
      "0x1f",
      "1e3",
      ".inf",
      "- a",
      "a: b",
      "#c",
      "'q'",
      "\"q\"",
      "*x",
      "&y",
      "!t",
      "%",
      "@",
      "`",
      "[]",
      "{}",
      "a #b",
      "trailing ",
      " leading",
      "",
      "12:30",
      "0o7",
      ".5",
      "-",
      "?",
      "|",
      ">"
    ),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie("value"), { maxKeys: 4 })
  )
})).value

describe("toYaml", () => {
  it("writes block style with two-space indents", () => {
    const text = toYaml({ a: 1, b: ["x", { c: true, d: [] }], e: {}, f: { g: null } })
    assert.strictEqual(
      text,
      ["a: 1", "b:", "  - x", "  - c: true", "    d: []", "e: {}", "f:", "  g: null", ""].join("\n")
    )
  })

  it("quotes strings a parser would read as something else", () => {
    const text = toYaml({ values: ["true", "no", "720h", "0", "*", "a: b", "", "plain text", ".status.phase"] })
    assert.strictEqual(
      text,
      [
        "values:",
        "  - \"true\"",
        "  - \"no\"",
        "  - \"720h\"",
        "  - \"0\"",
        "  - \"*\"",
        "  - \"a: b\"",
        "  - \"\"",
        "  - plain text",
        "  - \".status.phase\"",
        ""
      ].join("\n")
    )
  })

  it.prop("parses back to the same JSON value", { value: json }, ({ value }) => {
    const wrapped = { value }
    assert.deepStrictEqual(parse(toYaml(wrapped)), JSON.parse(JSON.stringify(wrapped)))
  }, { fastCheck: { numRuns: 300 } })

  it("refuses values JSON cannot carry", () => {
    assert.throws(() => toYaml({ a: Number.NaN }), /no JSON form/)
    assert.throws(() => toYaml({ a: () => 1 }), /no JSON form/)
  })
})
