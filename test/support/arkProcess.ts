// The real `ark` entry point in a child process, as a user runs it.
import { execFile, spawn, spawnSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

import { Data, Effect } from "effect"

const main = fileURLToPath(new URL("../../bin/ark.mjs", import.meta.url))

/** A start-up takes seconds, but far longer on a loaded 2-core CI machine; a hang still ends. */
const deadlineMillis = 120_000

export const arkWithEnv = (env: NodeJS.ProcessEnv, ...args: ReadonlyArray<string>) => {
  const run = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", timeout: deadlineMillis, env })
  // A killed run has no exit status: fail here, so `status !== 0` cannot pass for the wrong reason.
  if (run.error !== undefined || run.signal !== null) {
    throw new Error(
      `ark ${args.join(" ")} did not finish (${run.error?.message ?? `killed by ${run.signal}`}): ${run.stderr}`
    )
  }
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

export const ark = (...args: ReadonlyArray<string>) => arkWithEnv(process.env, ...args)

/** No kubeconfig anywhere (nor a home holding one): any attempt to reach a cluster fails differently. */
export const arkWithoutCluster = (...args: ReadonlyArray<string>) => {
  const { KUBECONFIG: _kubeconfig, ...env } = process.env
  return arkWithEnv({ ...env, HOME: mkdtempSync(join(tmpdir(), "ark-home-")) }, ...args)
}

/**
 * `ark` without blocking the test's event loop while it runs: for tests that spawn many, where a
 * worker blocked for minutes on a loaded machine misses vitest's own heartbeats.
 */
export const arkAsync = (...args: ReadonlyArray<string>) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      process.execPath,
      [main, ...args],
      { encoding: "utf8", timeout: deadlineMillis },
      (error, stdout, stderr) => {
        if (error !== null && (error.killed || typeof error.code !== "number")) {
          reject(new Error(`ark ${args.join(" ")} did not finish (${error.message}): ${stderr}`))
        } else {
          resolve({ status: error === null ? 0 : Number(error.code), stdout, stderr })
        }
      }
    )
  })

export class ArkRunFailed extends Data.TaggedError("ArkRunFailed")<{ readonly message: string }> {}

/**
 * `ark ARGS` as an Effect that does not block the event loop, so a server child process the test
 * also runs keeps being read while the command (a `--wait`, say) runs. `env` replaces the
 * environment when given.
 */
export const arkRunWithEnv = (env: NodeJS.ProcessEnv, ...args: ReadonlyArray<string>) =>
  Effect.async<{ readonly status: number | null; readonly stdout: string; readonly stderr: string }, ArkRunFailed>(
    (resume) => {
      const child = spawn(process.execPath, [main, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
        env,
        // Long enough for a `--wait` on a loaded 2-core machine; a hang still ends.
        timeout: deadlineMillis * 2
      })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")))
      child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")))
      child.on("error", (cause) => resume(Effect.fail(new ArkRunFailed({ message: String(cause) }))))
      child.on("close", (status, signal) =>
        resume(
          signal === null
            ? Effect.succeed({ status, stdout, stderr })
            : Effect.fail(new ArkRunFailed({ message: `ark ${args.join(" ")} killed by ${signal}: ${stderr}` }))
        ))
      return Effect.sync(() => void child.kill())
    }
  )

export const arkRun = (...args: ReadonlyArray<string>) => arkRunWithEnv(process.env, ...args)

/** `ark ARGS -n NAMESPACE --kubeconfig FILE`; a run that does not finish fails the test. */
export const arkInCluster = (namespace: string, kubeconfig: string, ...args: ReadonlyArray<string>) =>
  arkRun(...args, "-n", namespace, "--kubeconfig", kubeconfig).pipe(Effect.orDie)
