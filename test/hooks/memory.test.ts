import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, TestClock } from "effect"

import * as MemoryHooksLayer from "../../layers/hooks/Memory.ts"
import { MemoryHooks } from "../../layers/hooks/Memory.ts"
import { HookRunner, HookTimeout } from "../../services/HookRunner.ts"

const target = { namespace: "nginx-example", pod: "nginx-0", container: "fsfreeze" }
const freeze = ["/sbin/fsfreeze", "--freeze", "/var/log/nginx"]

describe("Memory HookRunner", () => {
  it.effect("exits 0 with empty output unless scripted, and records the call", () =>
    Effect.gen(function*() {
      const runner = yield* HookRunner
      const hooks = yield* MemoryHooks
      yield* TestClock.adjust("3 seconds")
      const result = yield* runner.exec(target, freeze, Duration.seconds(30))
      assert.deepStrictEqual(result, { stdout: "", stderr: "", exitCode: 0 })
      assert.deepStrictEqual(yield* hooks.calls, [
        {
          target,
          command: freeze,
          timeout: Duration.seconds(30),
          startedAtMillis: 3000,
          outcome: "exited",
          exitCode: 0
        }
      ])
    }).pipe(Effect.provide(MemoryHooksLayer.layer())))

  it.effect("a script matches on pod, container and command; the latest match wins", () =>
    Effect.gen(function*() {
      const runner = yield* HookRunner
      const hooks = yield* MemoryHooks
      yield* hooks.script({ pod: "nginx-0" }, { result: { stdout: "any", exitCode: 0 } })
      yield* hooks.script({ pod: "nginx-0", container: "fsfreeze", command: freeze }, {
        result: { stderr: "busy", exitCode: 3 }
      })
      assert.deepStrictEqual(yield* runner.exec(target, freeze, Duration.seconds(1)), {
        stdout: "",
        stderr: "busy",
        exitCode: 3
      })
      assert.deepStrictEqual(yield* runner.exec(target, ["true"], Duration.seconds(1)), {
        stdout: "any",
        stderr: "",
        exitCode: 0
      })
      assert.deepStrictEqual(yield* runner.exec({ ...target, pod: "nginx-1" }, freeze, Duration.seconds(1)), {
        stdout: "",
        stderr: "",
        exitCode: 0
      })
      const calls = yield* hooks.calls
      assert.deepStrictEqual(calls.map((c) => [c.target.pod, c.exitCode]), [["nginx-0", 3], ["nginx-0", 0], [
        "nginx-1",
        0
      ]])
    }).pipe(Effect.provide(MemoryHooksLayer.layer())))

  it.effect("a command that takes longer than its timeout fails with HookTimeout once the clock passes it", () =>
    Effect.gen(function*() {
      const runner = yield* HookRunner
      const hooks = yield* MemoryHooks
      yield* hooks.script({ command: freeze }, { takes: "2 minutes" })
      const fiber = yield* Effect.fork(Effect.flip(runner.exec(target, freeze, Duration.seconds(30))))
      yield* TestClock.adjust("29 seconds")
      assert.isTrue((yield* Fiber.poll(fiber))._tag === "None")
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.isTrue(error instanceof HookTimeout)
      if (error instanceof HookTimeout) {
        assert.deepStrictEqual([error.namespace, error.pod, error.container], [
          target.namespace,
          target.pod,
          target.container
        ])
        assert.isTrue(Duration.equals(error.timeout, Duration.seconds(30)))
      }
      assert.strictEqual((yield* hooks.calls)[0]?.outcome, "timedOut")
    }).pipe(Effect.provide(MemoryHooksLayer.layer())))

  it.effect("a command within its timeout finishes after the time it takes", () =>
    Effect.gen(function*() {
      const runner = yield* HookRunner
      yield* (yield* MemoryHooks).script({}, { takes: "10 seconds", result: { stdout: "frozen" } })
      const fiber = yield* Effect.fork(runner.exec(target, freeze, Duration.seconds(30)))
      yield* TestClock.adjust("10 seconds")
      assert.deepStrictEqual(yield* Fiber.join(fiber), { stdout: "frozen", stderr: "", exitCode: 0 })
    }).pipe(Effect.provide(MemoryHooksLayer.layer())))

  it.effect("a scripted exec failure is a HookExecError, not a result", () =>
    Effect.gen(function*() {
      const runner = yield* HookRunner
      const hooks = yield* MemoryHooks
      yield* hooks.script({ container: "fsfreeze" }, { execError: "container fsfreeze not found" })
      const error = yield* Effect.flip(runner.exec(target, freeze, Duration.seconds(5)))
      assert.strictEqual(error._tag, "HookExecError")
      if (error._tag === "HookExecError") assert.strictEqual(error.message, "container fsfreeze not found")
      assert.strictEqual((yield* hooks.calls)[0]?.outcome, "execError")
    }).pipe(Effect.provide(MemoryHooksLayer.layer({ scripts: [] }))))

  it.effect("calls carry clock timestamps that order them", () =>
    Effect.gen(function*() {
      const runner = yield* HookRunner
      const hooks = yield* MemoryHooks
      yield* runner.exec(target, ["pre"], Duration.seconds(5))
      yield* TestClock.adjust("1 second")
      yield* runner.exec(target, ["post"], Duration.seconds(5))
      assert.deepStrictEqual((yield* hooks.calls).map((c) => [c.command[0], c.startedAtMillis]), [["pre", 0], [
        "post",
        1000
      ]])
    }).pipe(Effect.provide(MemoryHooksLayer.layer())))
})
