// A MinIO of one test's own, from the environment's cached binary, that the test may stop and start
// again on the same port and data (the shared one serves every other test file at the same time).
import type { ChildProcess } from "node:child_process"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3"
import { Config, Effect, Option, Redacted } from "effect"

import { waitFor } from "../support/wait.ts"
import type { S3Target } from "./serverProcess.ts"

const freePort = Effect.async<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const ready = (url: string) =>
  Effect.promise(() => fetch(`${url}/minio/health/ready`).then((response) => response.ok, () => false)).pipe(
    Effect.map((ok) => (ok ? Option.some(true) : Option.none()))
  )

export interface PrivateMinio {
  readonly target: S3Target
  /** Stops the process (SIGKILL: an outage, not a shutdown) and waits until it is gone. */
  readonly stop: Effect.Effect<void>
  /** Starts it again on the same port and data, and waits until it is ready. */
  readonly start: Effect.Effect<void, unknown>
}

/** A running MinIO with a bucket, removed with its data when the scope closes. */
export const privateMinio = (prefix: string) =>
  Effect.gen(function*() {
    const bin = yield* Config.string("ARK_TEST_BIN").pipe(
      Effect.orDieWith((error) => new Error(`the MinIO outage test needs the test environment's binaries: ${error}`))
    )
    const region = yield* Config.string("AWS_REGION").pipe(Effect.orElseSucceed(() => "us-east-1"))
    const data = yield* Effect.acquireRelease(
      Effect.promise(() => fs.mkdtemp(join(tmpdir(), "ark-it-minio-"))),
      (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
    )
    const port = yield* freePort
    const url = `http://127.0.0.1:${port}`
    const accessKeyId = `ark${randomBytes(6).toString("hex")}`
    const secretAccessKey = randomBytes(20).toString("hex")
    let child: ChildProcess | undefined

    const stop = Effect.promise(async () => {
      const running = child
      child = undefined
      if (running === undefined || running.exitCode !== null) return
      const exited = new Promise((resolve) => running.once("exit", resolve))
      running.kill("SIGKILL")
      await exited
    })
    const start = Effect.gen(function*() {
      child = spawn(join(bin, "minio"), ["server", data, "--address", `127.0.0.1:${port}`, "--quiet"], {
        stdio: "ignore",
        env: {
          ...process.env,
          MINIO_ROOT_USER: accessKeyId,
          MINIO_ROOT_PASSWORD: secretAccessKey,
          MINIO_BROWSER: "off",
          MINIO_UPDATE: "off"
        }
      })
      yield* waitFor(`private MinIO on ${url} ready`, ready(url), "60 seconds")
    })
    yield* Effect.acquireRelease(start, () => stop)

    const bucket = "ark-outage"
    yield* Effect.acquireUseRelease(
      Effect.sync(() =>
        new S3Client({ endpoint: url, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } })
      ),
      (s3) => Effect.promise(() => s3.send(new CreateBucketCommand({ Bucket: bucket }))),
      (s3) => Effect.sync(() => s3.destroy())
    )
    const minio: PrivateMinio = {
      target: { url, bucket, prefix, region, accessKeyId, secretAccessKey: Redacted.make(secretAccessKey) },
      stop,
      start
    }
    return minio
  })
