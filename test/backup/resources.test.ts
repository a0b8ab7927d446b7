import { assert, describe, it } from "@effect/vitest"

import type { ApiResource } from "../../services/KubeClient.ts"
import { groupResource } from "../../src/archive/layout.ts"
import { resolveResource, selectResources } from "../../src/backup/resources.ts"
import { builtinResources } from "../../src/kube/builtinResources.ts"

const widgets: ApiResource = {
  group: "example.com",
  version: "v1",
  resource: "widgets",
  kind: "Widget",
  namespaced: true,
  verbs: ["get", "list", "create"],
  shortNames: ["wdg"],
  singularName: "widget",
  statusSubresource: false
}
const arkBackups: ApiResource = {
  ...widgets,
  group: "ark.heptio.com",
  resource: "backups",
  kind: "Backup",
  shortNames: [],
  singularName: "backup"
}
const reviews: ApiResource = {
  ...widgets,
  group: "authentication.k8s.io",
  resource: "tokenreviews",
  kind: "TokenReview",
  verbs: ["create"],
  shortNames: [],
  singularName: "tokenreview"
}
const discovered = [...builtinResources, widgets, arkBackups, reviews]

const cases: ReadonlyArray<readonly [string, string | undefined]> = [
  ["pods", "pods"],
  ["po", "pods"],
  ["Pod", "pods"],
  ["pod", "pods"],
  ["deploy", "deployments.apps"],
  ["deployments.apps", "deployments.apps"],
  ["Deployment", "deployments.apps"],
  ["deploy.apps", "deployments.apps"],
  ["widgets.example.com", "widgets.example.com"],
  ["Widget", "widgets.example.com"],
  ["wdg", "widgets.example.com"],
  ["events", "events"],
  ["events.events.k8s.io", "events.events.k8s.io"],
  ["crd", "customresourcedefinitions.apiextensions.k8s.io"],
  ["gizmos", undefined],
  ["deployments.nowhere", undefined],
  ["widgets.example.org", undefined]
]

describe("resolveResource", () => {
  for (const [name, expected] of cases) {
    it(`${name} → ${expected ?? "unknown"}`, () => {
      const resource = resolveResource(name, discovered)
      assert.strictEqual(resource === undefined ? undefined : groupResource(resource), expected)
    })
  }
})

describe("selectResources", () => {
  it("takes every listable resource for *, minus the never-backed-up set", () => {
    const selection = selectResources(["*"], [], discovered)
    const names = selection.resources.map(groupResource)
    assert.include(names, "pods")
    assert.include(names, "widgets.example.com")
    for (
      const never of ["events", "events.events.k8s.io", "backups.ark.heptio.com", "tokenreviews.authentication.k8s.io"]
    ) {
      assert.notInclude(names, never)
    }
    assert.deepStrictEqual(selection.unknown, [])
  })

  it("applies includes and excludes by any name, and reports unknown names per field", () => {
    const selection = selectResources(["deploy", "Pod", "widgets.example.com", "gizmo"], ["wdg", "nothing"], discovered)
    assert.deepStrictEqual(selection.resources.map(groupResource).sort(), ["deployments.apps", "pods"])
    assert.deepStrictEqual(selection.unknown, [
      { field: "includedResources", name: "gizmo" },
      { field: "excludedResources", name: "nothing" }
    ])
  })

  it("drops events even when named explicitly", () => {
    assert.deepStrictEqual(selectResources(["events", "pods"], [], discovered).resources.map(groupResource), ["pods"])
  })
})
