// Shared object storage (MinIO, S3 API) and EC2 fake (moto server), one of each per environment.
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"

import { CreateBucketCommand, GetObjectLockConfigurationCommand, S3Client } from "@aws-sdk/client-s3"

import { cacheRoot, MOTO_VERSION } from "./build.ts"
import { fetchUrl } from "./http.ts"
import { withLock } from "./lock.ts"
import {
  formatDuration,
  freePorts,
  log,
  requireTool,
  run,
  startDaemon,
  type StartedProcess,
  waitHealthy,
  withProgress
} from "./processes.ts"

export interface S3Info {
  readonly url: string
  readonly bucket: string
  /** A second bucket created with S3 Object Lock enabled (it is versioned too). */
  readonly lockedBucket: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

export const startMinio = async (
  root: string,
  binDir: string,
  onStart: (p: StartedProcess) => void
): Promise<S3Info> => {
  const logs = join(root, "logs")
  const data = join(root, "minio-data")
  mkdirSync(data, { recursive: true })
  const [port] = (await freePorts(1)) as [number]
  const accessKeyId = `ark${randomBytes(6).toString("hex")}`
  const secretAccessKey = randomBytes(20).toString("hex")
  const url = `http://127.0.0.1:${port}`
  const pid = startDaemon(
    "minio",
    join(binDir, "minio"),
    ["server", data, "--address", `127.0.0.1:${port}`, "--quiet"],
    logs,
    {
      ...process.env,
      MINIO_ROOT_USER: accessKeyId,
      MINIO_ROOT_PASSWORD: secretAccessKey,
      MINIO_BROWSER: "off", // no console port to allocate
      MINIO_UPDATE: "off"
    }
  )
  onStart({ name: "minio", pid })
  await waitHealthy("minio", pid, logs, async () => (await fetchUrl(`${url}/minio/health/ready`)).status === 200)
  const bucket = "ark-test"
  const lockedBucket = "ark-test-locked"
  const s3 = new S3Client({
    endpoint: url,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey }
  })
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    // Object Lock can only be enabled when a bucket is created (x-amz-bucket-object-lock-enabled).
    await s3.send(new CreateBucketCommand({ Bucket: lockedBucket, ObjectLockEnabledForBucket: true }))
    const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: lockedBucket }))
    if (lock.ObjectLockConfiguration?.ObjectLockEnabled !== "Enabled") {
      throw new Error(`MinIO created bucket ${lockedBucket} without Object Lock`)
    }
  } finally {
    s3.destroy()
  }
  return { url, bucket, lockedBucket, accessKeyId, secretAccessKey }
}

/**
 * venv with pinned moto[server] in the cache; a marker file says the install completed. Installed
 * under a lock next to it, so concurrent first runs install it once (see lock.ts).
 */
export const ensureMoto = async (): Promise<string> => {
  const venv = join(cacheRoot(), `moto-${MOTO_VERSION}-venv`)
  const marker = join(venv, ".ark-installed")
  if (existsSync(marker)) return venv
  requireTool(
    "python3",
    "to run the moto EC2 fake",
    "install Python >= 3.9 with the venv module (e.g. apt-get install python3-venv)"
  )
  return withLock(`${venv}.lock`, { what: `installing moto into ${venv}` }, async () => {
    if (existsSync(marker)) {
      log(`reusing the moto venv another process installed in ${venv}`)
      return venv
    }
    log(`installing moto[server]==${MOTO_VERSION} into ${venv} (first run only, ~1 min)`)
    const t0 = performance.now()
    rmSync(venv, { recursive: true, force: true })
    const fix = { component: "moto (python3 -m venv / pip)" }
    await withProgress(
      (elapsed) => `installing moto[server]==${MOTO_VERSION}: ${elapsed} elapsed, ~1 min expected`,
      async () => {
        await run("python3", ["-m", "venv", venv], fix)
        await run(
          join(venv, "bin", "pip"),
          ["install", "--disable-pip-version-check", "-q", `moto[server]==${MOTO_VERSION}`],
          fix
        )
      }
    )
    writeFileSync(marker, `${MOTO_VERSION}\n`)
    log(`installed moto in ${formatDuration(performance.now() - t0)}`)
    return venv
  })
}

export const startMoto = async (root: string, venv: string, onStart: (p: StartedProcess) => void): Promise<string> => {
  const logs = join(root, "logs")
  const [port] = (await freePorts(1)) as [number]
  const url = `http://127.0.0.1:${port}`
  const pid = startDaemon("moto", join(venv, "bin", "moto_server"), ["-H", "127.0.0.1", "-p", String(port)], logs)
  onStart({ name: "moto", pid })
  await waitHealthy("moto", pid, logs, async () => (await fetchUrl(`${url}/moto-api/`)).status < 500)
  return url
}
