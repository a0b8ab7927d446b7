import { assert, describe, it } from "@effect/vitest"
import { Duration } from "effect"

import { parseCommand, podHooks } from "../../src/hooks/select.ts"
import { podWithClaims } from "../volumes/fixtures.ts"

const spec = [{
  name: "flush",
  includedNamespaces: ["app"],
  labelSelector: { matchLabels: { app: "db" } },
  pre: [{ exec: { command: ["sync"], onError: "Continue" as const } }]
}]

describe("hook selection", () => {
  it("a command is a JSON array, or else one argument as written", () => {
    assert.deepStrictEqual(parseCommand(`["/bin/sh", "-c", "echo hi"]`), ["/bin/sh", "-c", "echo hi"])
    assert.deepStrictEqual(parseCommand("/sbin/fsfreeze --freeze /data"), ["/sbin/fsfreeze --freeze /data"])
    assert.deepStrictEqual(parseCommand("[not json"), ["[not json"])
  })

  it("annotations: first container, 30s and Fail by default; a bad timeout is a warning", () => {
    const pod = podWithClaims("app", "db-0", [], {
      containers: ["db", "sidecar"],
      annotations: {
        "pre.hook.backup.ark.heptio.com/command": `["sync"]`,
        "pre.hook.backup.ark.heptio.com/timeout": "soon"
      }
    })
    const hooks = podHooks(pod, undefined)
    assert.lengthOf(hooks.pre, 1)
    assert.lengthOf(hooks.post, 0)
    const [hook] = hooks.pre
    assert.strictEqual(hook?.container, "db")
    assert.strictEqual(hook?.onError, "Fail")
    assert.strictEqual(Duration.toMillis(hook!.timeout), 30_000)
    assert.deepStrictEqual(hook?.command, ["sync"])
    assert.lengthOf(hooks.warnings, 1)
  })

  it("spec hooks match by namespace and labels; a pod's annotations replace them for that phase", () => {
    assert.lengthOf(podHooks(podWithClaims("app", "db-0", [], { labels: { app: "db" } }), spec).pre, 1)
    assert.lengthOf(podHooks(podWithClaims("other", "db-0", [], { labels: { app: "db" } }), spec).pre, 0)
    assert.lengthOf(podHooks(podWithClaims("app", "web-0", [], { labels: { app: "web" } }), spec).pre, 0)
    const annotated = podWithClaims("app", "db-0", [], {
      labels: { app: "db" },
      annotations: { "pre.hook.backup.ark.heptio.com/command": "true" }
    })
    assert.deepStrictEqual(podHooks(annotated, spec).pre.map((hook) => hook.name), ["pre.hook.backup.ark.heptio.com"])
  })

  it("a named container the pod does not have is a problem naming it", () => {
    const pod = podWithClaims("app", "db-0", [], {
      annotations: {
        "post.hook.backup.ark.heptio.com/command": "true",
        "post.hook.backup.ark.heptio.com/container": "fsfreeze"
      }
    })
    assert.strictEqual(podHooks(pod, undefined).post[0]?.problem, `container "fsfreeze" not found in pod app/db-0`)
  })
})
