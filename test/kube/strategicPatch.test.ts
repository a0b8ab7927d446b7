// The strategic merge patch's reach: keyed lists of built-in kinds, directives, and plain merge
// patch semantics for custom resources.
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"

import type { JsonRecord } from "../../src/kube/json.ts"
import { applyStrategicMergePatch } from "../../src/kube/strategicPatch.ts"

const deployment: JsonRecord = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop", finalizers: ["a"] },
  spec: {
    template: {
      spec: {
        containers: [
          {
            name: "app",
            image: "registry.old/app:1",
            env: [{ name: "A", value: "1" }, { name: "B", value: "2" }],
            ports: [{ containerPort: 80, name: "http" }],
            volumeMounts: [{ name: "data", mountPath: "/data" }]
          },
          { name: "sidecar", image: "registry.old/sidecar:1" }
        ],
        volumes: [{ name: "data", emptyDir: {} }, { name: "cache", emptyDir: {} }],
        tolerations: [{ key: "x", operator: "Exists" }]
      }
    }
  }
}

const patched = (object: JsonRecord, patch: unknown) => Either.getOrThrow(applyStrategicMergePatch(object, patch))
const podSpec = (object: JsonRecord) =>
  (((object["spec"] as JsonRecord)["template"] as JsonRecord)["spec"]) as JsonRecord
const templatePatch = (spec: JsonRecord) => ({ spec: { template: { spec } } })

describe("applyStrategicMergePatch", () => {
  it("merges containers by name: one image changes, the other container and the fields not named stay", () => {
    const result = podSpec(
      patched(deployment, templatePatch({ containers: [{ name: "app", image: "registry.new/app:1" }] }))
    )
    const containers = result["containers"] as Array<JsonRecord>
    assert.deepStrictEqual(containers.map((c) => [c["name"], c["image"]]), [
      ["app", "registry.new/app:1"],
      ["sidecar", "registry.old/sidecar:1"]
    ])
    assert.deepStrictEqual(containers[0]!["env"], [{ name: "A", value: "1" }, { name: "B", value: "2" }])
  })

  it("merges env by name, ports by containerPort and volumeMounts by mountPath; new elements are appended", () => {
    const result = podSpec(patched(
      deployment,
      templatePatch({
        containers: [{
          name: "app",
          env: [{ name: "B", value: "two" }, { name: "C", value: "3" }],
          ports: [{ containerPort: 80, protocol: "TCP" }],
          volumeMounts: [{ mountPath: "/data", readOnly: true }]
        }]
      })
    ))
    const app = (result["containers"] as Array<JsonRecord>)[0]!
    assert.deepStrictEqual(app["env"], [{ name: "A", value: "1" }, { name: "B", value: "two" }, {
      name: "C",
      value: "3"
    }])
    assert.deepStrictEqual(app["ports"], [{ containerPort: 80, name: "http", protocol: "TCP" }])
    assert.deepStrictEqual(app["volumeMounts"], [{ name: "data", mountPath: "/data", readOnly: true }])
  })

  it("$patch: delete removes a keyed element; a list without a key is replaced whole", () => {
    const result = podSpec(patched(
      deployment,
      templatePatch({ volumes: [{ name: "cache", $patch: "delete" }], tolerations: [{ key: "y", operator: "Exists" }] })
    ))
    assert.deepStrictEqual(result["volumes"], [{ name: "data", emptyDir: {} }])
    assert.deepStrictEqual(result["tolerations"], [{ key: "y", operator: "Exists" }])
  })

  it("$patch: replace on a list and a map, $retainKeys, $deleteFromPrimitiveList and finalizers as a set", () => {
    const result = patched(deployment, {
      metadata: { finalizers: ["b", "a"] },
      spec: {
        strategy: { $retainKeys: ["type"], type: "Recreate" },
        template: { spec: { volumes: [{ $patch: "replace" }, { name: "only", emptyDir: {} }] } }
      }
    })
    assert.deepStrictEqual((result["metadata"] as JsonRecord)["finalizers"], ["a", "b"])
    assert.deepStrictEqual((result["spec"] as JsonRecord)["strategy"], { type: "Recreate" })
    assert.deepStrictEqual(podSpec(result)["volumes"], [{ name: "only", emptyDir: {} }])
    const removed = patched(deployment, { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } })
    assert.deepStrictEqual((removed["metadata"] as JsonRecord)["finalizers"], [])
    const replaced = patched(deployment, { spec: { template: { $patch: "replace", metadata: { labels: {} } } } })
    assert.deepStrictEqual((replaced["spec"] as JsonRecord)["template"], { metadata: { labels: {} } })
  })

  it("merges a Service's ports by port and a Pod's containers at spec.containers", () => {
    const service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "s" },
      spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] }
    }
    assert.deepStrictEqual(
      (patched(service, { spec: { ports: [{ port: 80, targetPort: 9090 }] } })["spec"] as JsonRecord)["ports"],
      [{ port: 80, targetPort: 9090 }, { port: 443 }]
    )
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      spec: { containers: [{ name: "a", image: "x" }] }
    }
    assert.deepStrictEqual(
      (patched(pod, { spec: { containers: [{ name: "b", image: "y" }] } })["spec"] as JsonRecord)["containers"],
      [{ name: "a", image: "x" }, { name: "b", image: "y" }]
    )
  })

  it("a custom resource gets a plain merge patch: its lists are replaced, directives are plain keys", () => {
    const widget = {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { containers: [{ name: "a" }, { name: "b" }] }
    }
    assert.deepStrictEqual(
      (patched(widget, { spec: { containers: [{ name: "a", image: "x" }] } })["spec"] as JsonRecord)["containers"],
      [{ name: "a", image: "x" }]
    )
  })

  it("refuses an element of a keyed list without its key, and an unknown directive", () => {
    assert.deepStrictEqual(
      applyStrategicMergePatch(deployment, templatePatch({ containers: [{ image: "x" }] })),
      Either.left("every element of containers must be an object with its merge key \"name\"")
    )
    assert.deepStrictEqual(
      applyStrategicMergePatch(deployment, { spec: { $patch: "explode" } }),
      Either.left("unknown $patch directive \"explode\" (replace, delete or merge)")
    )
  })
})
