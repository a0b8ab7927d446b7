import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"

import { builtinResources } from "../../src/kube/builtinResources.ts"
import { matchesFields, parseFieldSelector } from "../../src/kube/fieldSelector.ts"
import { compareVersionPriority, preferredVersion, sortByPriority } from "../../src/kube/versions.ts"

describe("version priority", () => {
  it("orders like apimachinery's CompareKubeAwareVersionStrings", () => {
    const expected = ["v10", "v2", "v1", "v11beta2", "v10beta3", "v3beta1", "v12alpha1", "v11alpha2", "foo1", "foo10"]
    const shuffled = [...expected].reverse()
    assert.deepStrictEqual(sortByPriority(shuffled), expected)
    assert.deepStrictEqual(sortByPriority(["v1beta1", "v1alpha1", "v1beta2", "v1", "v2beta1"]), [
      "v1",
      "v2beta1",
      "v1beta2",
      "v1beta1",
      "v1alpha1"
    ])
  })

  it("picks the preferred version and treats malformed kube versions as plain strings", () => {
    assert.strictEqual(preferredVersion(["v1alpha1", "v1beta1"]), "v1beta1")
    assert.strictEqual(preferredVersion([]), undefined)
    assert.isTrue(compareVersionPriority("v0", "v1alpha1") > 0)
    assert.isTrue(compareVersionPriority("v1beta", "v1alpha1") > 0)
    assert.strictEqual(compareVersionPriority("v1", "v1"), 0)
  })
})

describe("field selectors", () => {
  const fields = { "metadata.name": "a,b", "metadata.namespace": "ns", "status.phase": "Running" }
  const cases: ReadonlyArray<readonly [string, boolean]> = [
    ["", true],
    ["metadata.namespace=ns", true],
    ["metadata.namespace==ns", true],
    ["metadata.namespace!=ns", false],
    ["status.phase!=Succeeded,metadata.namespace=ns", true],
    ["metadata.name=a\\,b", true],
    ["spec.nodeName=", true],
    ["spec.nodeName!=", false]
  ]
  for (const [selector, expected] of cases) {
    it(`"${selector}" ${expected ? "matches" : "does not match"}`, () => {
      const parsed = Either.getOrThrow(parseFieldSelector(selector))
      assert.strictEqual(matchesFields(parsed, fields), expected)
    })
  }

  for (const selector of ["metadata.name", "=x", "a=b=c", "a=\\x"]) {
    it(`rejects "${selector}"`, () => assert.isTrue(Either.isLeft(parseFieldSelector(selector))))
  }
})

describe("built-in resources", () => {
  const find = (group: string, resource: string) =>
    builtinResources.find((r) => r.group === group && r.resource === resource)

  it("names each resource once per group", () => {
    const keys = builtinResources.map((r) => `${r.group}/${r.resource}`)
    assert.strictEqual(new Set(keys).size, keys.length)
    assert.strictEqual(keys.length, 38)
  })

  it("has the real server's scopes, kinds, short names and status subresources", () => {
    const expectations: ReadonlyArray<readonly [string, string, string, boolean, ReadonlyArray<string>, boolean]> = [
      ["", "namespaces", "Namespace", false, ["ns"], true],
      ["", "pods", "Pod", true, ["po"], true],
      ["", "configmaps", "ConfigMap", true, ["cm"], false],
      ["", "persistentvolumes", "PersistentVolume", false, ["pv"], true],
      ["", "endpoints", "Endpoints", true, ["ep"], false],
      ["apps", "deployments", "Deployment", true, ["deploy"], true],
      ["apps", "controllerrevisions", "ControllerRevision", true, [], false],
      ["batch", "cronjobs", "CronJob", true, ["cj"], true],
      ["rbac.authorization.k8s.io", "clusterroles", "ClusterRole", false, [], false],
      ["apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", false, ["crd", "crds"], true],
      ["storage.k8s.io", "csidrivers", "CSIDriver", false, [], false],
      ["networking.k8s.io", "ingressclasses", "IngressClass", false, [], false],
      ["scheduling.k8s.io", "priorityclasses", "PriorityClass", false, ["pc"], false],
      ["events.k8s.io", "events", "Event", true, ["ev"], false]
    ]
    for (const [group, resource, kind, namespaced, shortNames, status] of expectations) {
      const found = find(group, resource)
      assert.isDefined(found, `${group}/${resource}`)
      assert.strictEqual(found?.kind, kind)
      assert.strictEqual(found?.namespaced, namespaced, `${resource} namespaced`)
      assert.deepStrictEqual(found?.shortNames, shortNames)
      assert.strictEqual(found?.statusSubresource, status, `${resource} status`)
      assert.strictEqual(found?.singularName, kind.toLowerCase())
    }
    assert.notInclude(find("", "namespaces")?.verbs ?? [], "deletecollection")
    assert.includeMembers([...(find("", "pods")?.verbs ?? [])], ["list", "watch", "deletecollection"])
  })
})
