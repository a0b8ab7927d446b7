// The live exec HookRunner through the real API server's pods/exec path (kwok runs the command on
// this machine): output, exit codes, timeouts, and what a missing pod or container says.
import { randomUUID } from "node:crypto"

import { assert, describe, it } from "@effect/vitest"
import { Config, Duration, Effect, Layer, Option } from "effect"

import * as ExecHooks from "../../layers/hooks/Exec.ts"
import { HookRunner } from "../../services/HookRunner.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { DeadlineExceeded, waitFor } from "../support/wait.ts"
import { liveKube } from "./live.ts"

const namespaces = { group: "", version: "v1", resource: "namespaces" } as const
const pods = { group: "", version: "v1", resource: "pods" } as const

const execLayer = Layer.unwrapEffect(
  Config.string("KUBECONFIG").pipe(
    Effect.orDieWith((error) => new Error(`hook exec tests need the test environment's KUBECONFIG: ${error}`)),
    Effect.map((kubeconfigPath) => ExecHooks.layer({ kubeconfigPath }).pipe(Layer.orDie))
  )
)

const testLayer = Layer.mergeAll(execLayer, liveKube())

/** A fresh namespace with one Running pod (container `app`), deleted afterwards. */
const runningPod = Effect.gen(function*() {
  const kube = yield* KubeClient
  const namespace = `ark-hooks-${randomUUID().slice(0, 8)}`
  yield* Effect.acquireRelease(
    kube.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }),
    () => kube.delete(namespaces, namespace).pipe(Effect.ignore)
  )
  const pod: KubeObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "db", namespace },
    spec: {
      containers: [{ name: "app", image: "busybox", command: ["sleep", "3600"] }, { name: "sidecar", image: "busybox" }]
    }
  }
  yield* kube.create(pods, pod)
  yield* waitFor(
    `pod ${namespace}/db Running`,
    kube.get(pods, "db", namespace).pipe(
      Effect.map((live) => {
        const status = live["status"]
        return typeof status === "object" && status !== null && "phase" in status && status.phase === "Running"
          ? Option.some(live)
          : Option.none()
      })
    )
  )
  return { namespace, pod: "db", container: "app" }
})

describe("exec HookRunner on the real API server", () => {
  it.live("collects stdout and stderr and reports the exit code", () =>
    Effect.gen(function*() {
      const target = yield* runningPod
      const hooks = yield* HookRunner
      const failing = yield* hooks.exec(target, ["sh", "-c", "echo out; echo err >&2; exit 3"], Duration.seconds(30))
      assert.deepStrictEqual(failing, { stdout: "out\n", stderr: "err\n", exitCode: 3 })
      const ok = yield* hooks.exec(target, ["echo", "hi"], Duration.seconds(30))
      assert.deepStrictEqual(ok, { stdout: "hi\n", stderr: "", exitCode: 0 })
      // A chatty hook keeps only the first 64 KiB of each stream.
      const chatty = yield* hooks.exec(target, ["sh", "-c", "yes | head -c 200000"], Duration.seconds(30))
      assert.isTrue(chatty.stdout.startsWith("y\ny\ny\n"))
      assert.include(chatty.stdout, `[${200000 - ExecHooks.MAX_OUTPUT_BYTES} more bytes not kept]`)
      assert.isBelow(chatty.stdout.length, ExecHooks.MAX_OUTPUT_BYTES + 100)
    }).pipe(Effect.scoped, Effect.provide(testLayer)))

  it.live("a command that outlives its timeout is a HookTimeout, long before the command would end", () =>
    Effect.gen(function*() {
      const target = yield* runningPod
      const hooks = yield* HookRunner
      // The command takes two minutes: an answer within the deadline means the runner cut it off.
      const error = yield* Effect.flip(hooks.exec(target, ["sleep", "120"], Duration.seconds(1))).pipe(
        Effect.timeoutFail({
          duration: "60 seconds",
          onTimeout: () => new DeadlineExceeded({ what: "the 1s hook timeout to cut off a 120s command" })
        })
      )
      assert.strictEqual(error._tag, "HookTimeout")
      assert.deepStrictEqual(error._tag === "HookTimeout" ? Duration.toMillis(error.timeout) : 0, 1000)
      // The runner is still usable afterwards.
      assert.strictEqual((yield* hooks.exec(target, ["true"], Duration.seconds(30))).exitCode, 0)
    }).pipe(Effect.scoped, Effect.provide(testLayer)))

  it.live("a missing container or pod is a HookExecError that names it", () =>
    Effect.gen(function*() {
      const target = yield* runningPod
      const hooks = yield* HookRunner
      const noContainer = yield* Effect.flip(
        hooks.exec({ ...target, container: "pgdump" }, ["true"], Duration.seconds(30))
      )
      assert.strictEqual(noContainer._tag, "HookExecError")
      assert.include(noContainer.message, `pod ${target.namespace}/db has no container pgdump (it has: app, sidecar)`)
      const noPod = yield* Effect.flip(hooks.exec({ ...target, pod: "gone" }, ["true"], Duration.seconds(30)))
      assert.strictEqual(noPod._tag, "HookExecError")
      assert.include(noPod.message, `pod ${target.namespace}/gone not found`)
      const noCommand = yield* Effect.flip(hooks.exec(target, ["/no/such/binary"], Duration.seconds(30)))
      assert.strictEqual(noCommand._tag, "HookExecError")
    }).pipe(Effect.scoped, Effect.provide(testLayer)))
})
