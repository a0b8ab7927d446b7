import { assert, describe, it } from "@effect/vitest"

import { validateBackupSpec } from "../../src/backup/validate.ts"
import { builtinResources } from "../../src/kube/builtinResources.ts"
import { makeBackup } from "./fixtures.ts"

const context = { resources: builtinResources, storageLocations: ["default"] }

describe("validateBackupSpec", () => {
  it("accepts the defaults", () => {
    assert.deepStrictEqual(validateBackupSpec(makeBackup({}).spec, context), [])
  })

  it("lists every problem at once", () => {
    const spec = {
      ...makeBackup({
        includedNamespaces: ["*", "a"],
        excludedNamespaces: ["*"],
        includedResources: ["pods", "gizmos"],
        excludedResources: ["pods"],
        labelSelector: { matchLabels: { "bad key!": "x" } },
        orLabelSelectors: [{ matchLabels: { app: "x" } }],
        storageLocation: "nowhere"
      }).spec,
      ttl: "1 day"
    }
    const problems = validateBackupSpec(spec, context)
    assert.deepStrictEqual(problems.length, 8, problems.join("\n"))
    for (
      const fragment of [
        `includedNamespaces: "*" must be the only entry`,
        `excludedNamespaces: cannot contain "*"`,
        "pods is both included and excluded",
        `includedResources: unknown resource "gizmos"`,
        "mutually exclusive",
        "labelSelector: ",
        `ttl: invalid duration "1 day"`,
        `"nowhere" does not exist`
      ]
    ) {
      assert.isTrue(problems.some((problem) => problem.includes(fragment)), fragment)
    }
  })
})
