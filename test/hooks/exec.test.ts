// The parts of the live exec HookRunner that need no API server: exit codes from the final
// V1Status, and what a pod tells about an exec that could not connect.
import { assert, describe, it } from "@effect/vitest"
import { Either, Option } from "effect"

import { exitCodeOf, explainPod } from "../../layers/hooks/Exec.ts"

const target = { namespace: "db", pod: "postgres-0", container: "postgres" }

describe("exitCodeOf", () => {
  it("reads Success as 0 and a NonZeroExitCode cause as its number", () => {
    assert.deepStrictEqual(exitCodeOf({ status: "Success", metadata: {} }), Either.right(0))
    assert.deepStrictEqual(
      exitCodeOf({
        status: "Failure",
        reason: "NonZeroExitCode",
        message: "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
        details: { causes: [{ reason: "ExitCode", message: "3" }] }
      }),
      Either.right(3)
    )
    // kwok's local exec reports the exit as an internal error.
    assert.deepStrictEqual(
      exitCodeOf({
        status: "Failure",
        reason: "InternalError",
        message: "Internal error occurred: error executing command in container: cmd wait: sh -c exit 3: exit status 3",
        details: {
          causes: [{ message: "error executing command in container: cmd wait: sh -c exit 3: exit status 3" }]
        }
      }),
      Either.right(3)
    )
  })

  it("is Left with the server's message when the command did not run", () => {
    assert.deepStrictEqual(
      exitCodeOf({
        status: "Failure",
        reason: "InternalError",
        message: "exec: \"nope\": executable file not found in $PATH"
      }),
      Either.left("exec: \"nope\": executable file not found in $PATH")
    )
    assert.deepStrictEqual(
      exitCodeOf({ status: "Failure", details: { causes: [{ reason: "ExitCode", message: "x" }] } }),
      Either.left("exec failed without a reason")
    )
  })
})

describe("explainPod", () => {
  const running = {
    spec: { containers: [{ name: "postgres" }, { name: "exporter" }] },
    status: {
      phase: "Running",
      containerStatuses: [{
        name: "postgres",
        ready: true,
        restartCount: 0,
        image: "",
        imageID: "",
        state: { running: {} }
      }]
    }
  }

  it("names a missing container and the ones the pod has", () => {
    assert.deepStrictEqual(
      explainPod({ ...target, container: "pgbouncer" }, running),
      Option.some("pod db/postgres-0 has no container pgbouncer (it has: postgres, exporter)")
    )
  })

  it("says when the pod or the container is not running, and nothing when all looks fine", () => {
    assert.deepStrictEqual(
      explainPod(target, { ...running, status: { phase: "Pending" } }),
      Option.some("pod db/postgres-0 is Pending, not Running")
    )
    assert.deepStrictEqual(
      explainPod(target, {
        ...running,
        status: {
          phase: "Running",
          containerStatuses: [{
            name: "postgres",
            ready: false,
            restartCount: 1,
            image: "",
            imageID: "",
            state: { waiting: { reason: "CrashLoopBackOff" } }
          }]
        }
      }),
      Option.some("container postgres of pod db/postgres-0 is not running")
    )
    assert.deepStrictEqual(explainPod(target, running), Option.none())
  })
})
