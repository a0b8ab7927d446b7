// Resource modifiers (Velero's format): what a bad document is refused with, how conditions match
// (globs, regexes, label selectors, `matches`, the backed-up namespace), the JSON Patch `test`
// law, and a restore and a dry run that apply them.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { defaultRestoreActions } from "../../src/restore/actions.ts"
import { applyResourceModifiers } from "../../src/restore/modifiers/apply.ts"
import { compileGlob } from "../../src/restore/modifiers/glob.ts"
import { parseResourceModifiers, patchValue } from "../../src/restore/modifiers/rules.ts"
import { configMap, deployment, persistentVolumeClaim } from "../backup/fixtures.ts"
import { backupSource, dryRunInto, makeRestore, makeWorld, restoreInto } from "./fixtures.ts"

const rules = (text: string) => Either.getOrThrow(parseResourceModifiers(text))

const modify = (text: string, groupResource: string, object: KubeObject) =>
  applyResourceModifiers(rules(text), groupResource, object)

describe("parseResourceModifiers refuses", () => {
  const cases: ReadonlyArray<readonly [string, string, ReadonlyArray<string>]> = [
    ["a version other than v1", "version: v2\nresourceModifierRules: []", [
      "version \"v2\" is not supported (only v1)",
      "resourceModifierRules must be a non-empty list"
    ]],
    [
      "a rule without groupResource",
      "version: v1\nresourceModifierRules:\n- conditions: {namespaces: [a]}\n  patches: [{operation: remove, path: /a}]",
      [
        "resourceModifierRules[0]: conditions.groupResource is required (e.g. deployments.apps, *.apps, *)"
      ]
    ],
    [
      "two kinds of patches",
      "version: v1\nresourceModifierRules:\n- conditions: {groupResource: pods}\n  patches: [{operation: remove, path: /a}]\n  mergePatches: [{patchData: '{}'}]",
      [
        "resourceModifierRules[0]: only one of patches, mergePatches, strategicPatches can be given, not patches and mergePatches"
      ]
    ],
    ["a rule with no patch", "version: v1\nresourceModifierRules:\n- conditions: {groupResource: pods}", [
      "resourceModifierRules[0]: has no patches, mergePatches or strategicPatches"
    ]],
    [
      "an unknown operation, and a bad regex in the next rule",
      "version: v1\nresourceModifierRules:\n- conditions: {groupResource: pods}\n  patches: [{operation: frobnicate, path: /a}]\n- conditions: {groupResource: pods, resourceNameRegex: '(a'}\n  patches: [{operation: remove, path: /a}]",
      [
        "resourceModifierRules[0]: patches[0].operation \"frobnicate\" is not one of add, remove, replace, move, copy, test",
        "resourceModifierRules[1]: conditions.resourceNameRegex \"(a\" is not a valid regular expression: Invalid regular expression: /(a/: Unterminated group"
      ]
    ],
    [
      "a bad pointer, an unknown field, a bad glob",
      "version: v1\nresourceModifierRules:\n- conditions: {groupResource: pods}\n  patches: [{operation: remove, path: a}]\n- conditions: {groupResource: pods, nmespaces: [a]}\n  patches: [{operation: remove, path: /a}]\n- conditions: {groupResource: '{pods'}\n  patches: [{operation: remove, path: /a}]",
      [
        "resourceModifierRules[0]: patches[0].path: JSON pointer \"a\" must start with '/'",
        "resourceModifierRules[1]: conditions: unknown field \"nmespaces\"",
        "resourceModifierRules[2]: conditions.groupResource: glob \"{pods\" has a '{' without its '}'"
      ]
    ],
    [
      "patchData that is not a map, a value that is a map",
      "version: v1\nresourceModifierRules:\n- conditions: {groupResource: pods}\n  mergePatches: [{patchData: '[1]'}]\n- conditions: {groupResource: pods}\n  patches: [{operation: add, path: /a, value: {b: 1}}]",
      [
        "resourceModifierRules[0]: mergePatches[0].patchData must be a map (a JSON object)",
        "resourceModifierRules[1]: patches[0].value must be a string (write JSON objects and lists as a quoted string, e.g. '{\"a\": 1}')"
      ]
    ]
  ]
  for (const [what, text, problems] of cases) {
    it(what, () => assert.deepStrictEqual(parseResourceModifiers(text), Either.left(problems)))
  }
})

describe("a patch value reads as Velero's does", () => {
  const cases: ReadonlyArray<readonly [string, unknown]> = [
    ["premium", "premium"],
    ["3", 3],
    ["\"3\"", "3"],
    ["true", true],
    ["null", null],
    ["{\"a\": [1]}", { a: [1] }],
    ["", ""]
  ]
  for (const [raw, value] of cases) {
    it(JSON.stringify(raw), () => assert.deepStrictEqual(patchValue(raw), Either.right(value)))
  }
})

describe("compileGlob", () => {
  it("matches as gobwas/glob with '.' as separator", () => {
    const matches = (glob: string, text: string) => Either.getOrThrow(compileGlob(glob, ".")).test(text)
    assert.isTrue(matches("*.apps", "deployments.apps"))
    assert.isFalse(matches("*", "deployments.apps"), "* stays within the core group")
    assert.isTrue(matches("*.*", "deployments.apps"))
    assert.isTrue(matches("**", "widgets.example.com"))
    assert.isTrue(matches("{pods,secrets}", "secrets"))
    assert.isTrue(matches("[!s]ods", "pods"))
    assert.isFalse(matches("pod?", "pod.x"))
  })
})

const cm = (name: string, value: string, labels: Record<string, string> = {}): KubeObject =>
  configMap("shop", name, labels, { k: value })

// Words only: Velero reads a number-like or boolean value as JSON, not as the string.
const safeText = fc.stringMatching(/^[a-z]{1,8}$/).filter((text) => !["true", "false", "null"].includes(text))

describe("conditions", () => {
  it.prop(
    "a JSON Patch test op applies the rule's patch exactly when the value matches",
    { actual: safeText, expected: safeText },
    ({ actual, expected }) => {
      const result = Either.getOrThrow(modify(
        `version: v1
resourceModifierRules:
- conditions: {groupResource: configmaps}
  patches:
  - {operation: test, path: /data/k, value: "${expected}"}
  - {operation: add, path: /data/patched, value: "yes"}
`,
        "configmaps",
        cm("c", actual)
      ))
      assert.strictEqual(
        result.object["data"] !== undefined && "patched" in (result.object["data"] as object),
        actual === expected
      )
    }
  )

  it.prop(
    "resourceNameRegex and matches decide together; a missing path does not match",
    { name: safeText, prefix: safeText, value: safeText, wanted: safeText },
    ({ name, prefix, value, wanted }) => {
      const result = Either.getOrThrow(modify(
        `version: v1
resourceModifierRules:
- conditions:
    groupResource: configmaps
    resourceNameRegex: "^${prefix}"
    matches: [{path: /data/k, value: "${wanted}"}, {path: /metadata/name, value: "${name}"}]
  mergePatches: [{patchData: "data: {patched: 'yes'}"}]
- conditions:
    groupResource: configmaps
    matches: [{path: /data/absent, value: x}]
  mergePatches: [{patchData: "data: {absent: 'matched'}"}]
`,
        "configmaps",
        cm(name, value)
      ))
      const data = result.object["data"] as Record<string, string>
      assert.strictEqual(data["patched"] === "yes", name.startsWith(prefix) && value === wanted)
      assert.isUndefined(data["absent"])
    }
  )

  it.effect("namespaces are the backed-up ones, label selectors and groupResource globs narrow further", () =>
    Effect.gen(function*() {
      const text = `version: v1
resourceModifierRules:
- conditions:
    groupResource: "*"
    namespaces: ["sh*"]
    labelSelector: {matchLabels: {tier: web}}
  patches: [{operation: add, path: /data/patched, value: "one"}]
`
      const modifiers = rules(text)
      const context = {
        restoreName: "r",
        backupName: "b",
        namespaceMapping: { shop: "other" },
        resourceModifiers: modifiers
      }
      const web = yield* defaultRestoreActions.apply("configmaps", cm("a", "x", { tier: "web" }), context)
      assert.strictEqual(web._tag, "Restore")
      if (web._tag !== "Restore") return
      assert.strictEqual(web.item.metadata.namespace, "other")
      assert.deepStrictEqual(web.item["data"], { k: "x", patched: "one" })
      const db = yield* defaultRestoreActions.apply("configmaps", cm("a", "x", { tier: "db" }), context)
      assert.deepStrictEqual(db._tag === "Restore" ? db.item["data"] : undefined, { k: "x" })
      const failing = yield* defaultRestoreActions.apply("configmaps", cm("a", "x"), {
        ...context,
        resourceModifiers: rules(
          "version: v1\nresourceModifierRules:\n- conditions: {groupResource: configmaps}\n" +
            "  patches: [{operation: remove, path: /data/nope}]"
        )
      })
      assert.strictEqual(failing._tag, "Failed")
      assert.deepStrictEqual(
        Either.getOrThrow(
          applyResourceModifiers(modifiers, "deployments.apps", deployment("shop", "d", { tier: "web" }))
        ).rules,
        []
      )
    }))

  it("a patch that cannot apply is the item's error, naming the rule", () => {
    assert.deepStrictEqual(
      modify(
        "version: v1\nresourceModifierRules:\n- conditions: {groupResource: configmaps}\n  patches: [{operation: remove, path: /data/nope}]",
        "configmaps",
        cm("a", "x")
      ),
      Either.left(
        "resource modifier resourceModifierRules[0] cannot be applied: operation 0 (remove): path \"/data/nope\" does not exist"
      )
    )
  })
})

const modifierConfigMap = (name: string, yaml: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "heptio-ark" },
  data: { "rules.yaml": yaml }
})

const migration = `version: v1
resourceModifierRules:
- conditions: {groupResource: persistentvolumeclaims, namespaces: [shop]}
  patches: [{operation: add, path: /spec/storageClassName, value: premium}]
- conditions: {groupResource: deployments.apps}
  strategicPatches:
  - patchData: |
      spec: {template: {spec: {containers: [{name: main, image: registry.example/nginx}]}}}
`

describe("a restore with resource modifiers", () => {
  it.effect("patches what the rules select; the dry run shows the changes; a bad ConfigMap is a validation error", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* world.source.control.seed([
        persistentVolumeClaim("shop", "data", undefined),
        deployment("shop", "web"),
        configMap("shop", "plain")
      ])
      const backup = yield* backupSource(world, { includedNamespaces: ["shop"] })
      yield* world.target.control.seed([
        modifierConfigMap("migration", migration),
        modifierConfigMap("broken", "version: v1\nresourceModifierRules:\n- conditions: {}\n  patches: []")
      ])
      const restore = makeRestore({
        namespaceMapping: { shop: "shop-2" },
        resourceModifier: { kind: "ConfigMap", name: "migration" }
      })
      const preview = yield* dryRunInto(world.target, world, restore, backup)
      const byName = new Map(preview.map((entry) => [entry.name, entry]))
      assert.deepStrictEqual(byName.get("data")?.modified, ["spec.storageClassName: (none) → \"premium\""])
      assert.deepStrictEqual(byName.get("web")?.modified, [
        "spec.template.spec.containers[0].image: \"nginx\" → \"registry.example/nginx\""
      ])
      assert.isUndefined(byName.get("plain")?.modified)

      const run = yield* restoreInto(world.target, world, restore, backup)
      assert.strictEqual(run.restore.status?.phase, "Completed", JSON.stringify(run.restore.status))
      const claim = yield* world.target.client.get(
        { group: "", version: "v1", resource: "persistentvolumeclaims" },
        "data",
        "shop-2"
      )
      assert.strictEqual((claim["spec"] as Record<string, unknown>)["storageClassName"], "premium")
      const web = yield* world.target.client.get(
        { group: "apps", version: "v1", resource: "deployments" },
        "web",
        "shop-2"
      )
      assert.deepStrictEqual(
        (web["spec"] as { template: { spec: { containers: Array<unknown> } } }).template.spec.containers,
        [{ name: "main", image: "registry.example/nginx" }]
      )

      const refused = yield* restoreInto(
        world.target,
        world,
        makeRestore({ resourceModifier: { kind: "ConfigMap", name: "broken" } }, "r2"),
        backup
      )
      assert.strictEqual(refused.restore.status?.phase, "FailedValidation")
      assert.deepStrictEqual(refused.restore.status?.validationErrors, [
        "resourceModifier: ConfigMap \"broken\" in namespace heptio-ark: resourceModifierRules[0]: conditions.groupResource is required (e.g. deployments.apps, *.apps, *)"
      ])
      const missing = yield* restoreInto(
        world.target,
        world,
        makeRestore({ resourceModifier: { kind: "ConfigMap", name: "ghost" } }, "r3"),
        backup
      )
      assert.deepStrictEqual(missing.restore.status?.validationErrors, [
        "resourceModifier: ConfigMap \"ghost\" in namespace heptio-ark does not exist"
      ])
    }))
})
