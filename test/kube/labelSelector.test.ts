import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"

import type { LabelSelector } from "../../src/kube/labelSelector.ts"
import {
  fromLabelSelector,
  labelSelectorToString,
  matchesLabels,
  parseLabelSelector,
  selectorToString
} from "../../src/kube/labelSelector.ts"

const parse = (selector: string) => Either.getOrThrowWith(parseLabelSelector(selector), (e) => new Error(e.message))

describe("parseLabelSelector + matchesLabels", () => {
  const labels = { app: "web", tier: "frontend", version: "3", "example.com/owner": "ark" }
  const cases: ReadonlyArray<readonly [string, boolean]> = [
    ["", true],
    ["app=web", true],
    ["app==web", true],
    ["app = web", true],
    ["app=db", false],
    ["app!=db", true],
    ["app!=web", false],
    ["missing!=x", true],
    ["app in (web,db)", true],
    ["app in (db, cache)", false],
    ["app notin (db)", true],
    ["app notin (web)", false],
    ["missing notin (web)", true],
    ["missing in (web)", false],
    ["app", true],
    ["missing", false],
    ["!missing", true],
    ["!app", false],
    ["app=web,tier=frontend", true],
    ["app=web,tier=backend", false],
    ["version>2", true],
    ["version<3", false],
    ["app>1", false],
    ["example.com/owner=ark", true],
    ["example.com/owner in (ark),!missing,  app", true],
    ["app=", false],
    ["missing=", false]
  ]
  for (const [selector, expected] of cases) {
    it(`"${selector}" ${expected ? "matches" : "does not match"}`, () => {
      assert.strictEqual(matchesLabels(parse(selector), labels), expected)
    })
  }

  it("an empty value matches a label with the empty value, and notin with an empty element", () => {
    assert.isTrue(matchesLabels(parse("a="), { a: "" }))
    assert.isTrue(matchesLabels(parse("a in (,x)"), { a: "" }))
    assert.isFalse(matchesLabels(parse("a notin (x,)"), { a: "" }))
  })

  it("treats missing labels as none", () => {
    assert.isTrue(matchesLabels(parse("!a,b!=c"), undefined))
    assert.isFalse(matchesLabels(parse("a"), undefined))
  })

  const invalid = [
    "app=web,",
    "=web",
    "app in web",
    "app in (web",
    "app in ()",
    "app notin (a b)",
    "app >",
    "app>x",
    "app=we b",
    "app=-web",
    "app=(x)",
    "!",
    "a,,b",
    "-bad=x",
    "bad_prefix_/x=y",
    `a=${"x".repeat(64)}`,
    `${"k".repeat(64)}=v`,
    "app web"
  ]
  for (const selector of invalid) {
    it(`rejects "${selector}"`, () => {
      const result = parseLabelSelector(selector)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) assert.strictEqual(result.left.selector, selector)
    })
  }

  it("renders a canonical string that parses back to the same selector", () => {
    const selector = parse("tier notin (b,a), app == web, !gone, version>2, here")
    const rendered = selectorToString(selector)
    assert.strictEqual(rendered, "app==web,!gone,here,tier notin (a,b),version>2")
    assert.deepStrictEqual(parse(rendered), selector)
  })
})

describe("metav1.LabelSelector", () => {
  const cases: ReadonlyArray<readonly [LabelSelector, string]> = [
    [{}, ""],
    [{ matchLabels: { b: "2", a: "1" } }, "a=1,b=2"],
    [{ matchExpressions: [{ key: "env", operator: "In", values: ["prod", "dev"] }] }, "env in (dev,prod)"],
    [{ matchExpressions: [{ key: "env", operator: "NotIn", values: ["prod"] }] }, "env notin (prod)"],
    [{ matchExpressions: [{ key: "env", operator: "Exists" }] }, "env"],
    [{ matchExpressions: [{ key: "env", operator: "DoesNotExist" }] }, "!env"],
    [
      { matchLabels: { app: "web" }, matchExpressions: [{ key: "ark.heptio.com/skip", operator: "DoesNotExist" }] },
      "app=web,!ark.heptio.com/skip"
    ]
  ]
  for (const [labelSelector, expected] of cases) {
    it(`${JSON.stringify(labelSelector)} → "${expected}"`, () => {
      assert.deepStrictEqual(labelSelectorToString(labelSelector), Either.right(expected))
    })
  }

  it("string form and object form select the same objects", () => {
    const labelSelector: LabelSelector = {
      matchLabels: { app: "web" },
      matchExpressions: [{ key: "tier", operator: "NotIn", values: ["db"] }]
    }
    const direct = Either.getOrThrow(fromLabelSelector(labelSelector))
    const viaString = parse(Either.getOrThrow(labelSelectorToString(labelSelector)))
    for (const labels of [{ app: "web" }, { app: "web", tier: "db" }, { app: "db" }, {}]) {
      assert.strictEqual(matchesLabels(direct, labels), matchesLabels(viaString, labels))
    }
  })

  const invalid: ReadonlyArray<LabelSelector> = [
    { matchExpressions: [{ key: "env", operator: "In", values: [] }] },
    { matchExpressions: [{ key: "env", operator: "Exists", values: ["x"] }] },
    { matchExpressions: [{ key: "env", operator: "Equals", values: ["x"] }] },
    { matchLabels: { "bad key": "x" } },
    { matchLabels: { key: "bad value" } }
  ]
  for (const labelSelector of invalid) {
    it(`rejects ${JSON.stringify(labelSelector)}`, () => {
      assert.isTrue(Either.isLeft(labelSelectorToString(labelSelector)))
    })
  }
})
