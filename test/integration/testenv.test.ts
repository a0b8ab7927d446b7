// The test environment is real: scheduling, controllers, exec, S3 and EC2 endpoints all work.
import { execFile, spawn } from "node:child_process"
import { join } from "node:path"
import { promisify } from "node:util"

import { CreateSnapshotCommand, CreateVolumeCommand, DescribeSnapshotsCommand, EC2Client } from "@aws-sdk/client-ec2"
import {
  DeleteObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client
} from "@aws-sdk/client-s3"
import { describe, expect, it } from "vitest"

const env = (name: string): string => {
  const v = process.env[name]
  if (v === undefined) throw new Error(`${name} is not set: run with the integration globalSetup`)
  return v
}

const kubectl = async (args: ReadonlyArray<string>, kubeconfig = env("KUBECONFIG")): Promise<string> =>
  (
    await promisify(execFile)(join(env("ARK_TEST_BIN"), "kubectl"), [...args], {
      env: { ...process.env, KUBECONFIG: kubeconfig },
      // Seconds as a rule, much longer on a loaded 2-core machine; a hang still ends.
      timeout: 120_000
    })
  ).stdout

/** Polls until `check` returns a value, or fails with the last observation after the deadline. */
const eventually = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = 60_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const a = await check()
      if (a !== undefined) return a
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${String(last)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

const deployment = (ns: string): string =>
  JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: ns },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "web", image: "nginx:fake" }] }
      }
    }
  })

const service = (ns: string): string =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: ns },
    spec: { selector: { app: "web" }, ports: [{ port: 80 }] }
  })

const applyJson = async (json: string, kubeconfig?: string): Promise<void> => {
  await new Promise<void>((resolve, reject) => {
    const p = spawn(join(env("ARK_TEST_BIN"), "kubectl"), ["apply", "-f", "-"], {
      env: { ...process.env, KUBECONFIG: kubeconfig ?? env("KUBECONFIG") },
      stdio: ["pipe", "ignore", "pipe"],
      timeout: 120_000
    })
    let err = ""
    p.stderr.on("data", (d: Buffer) => (err += d.toString()))
    p.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`kubectl apply failed: ${err}`))))
    p.stdin.end(json)
  })
}

describe("test environment", () => {
  it("runs a Deployment to 2 Running pods, allocates a ClusterIP, execs, and finalizes the namespace", async () => {
    const ns = `testenv-${Date.now()}`
    await kubectl(["create", "namespace", ns])
    await applyJson(deployment(ns))
    await applyJson(service(ns))

    const pods = await eventually("2 Running pods", async () => {
      const list = JSON.parse(await kubectl(["get", "pods", "-n", ns, "-o", "json"])) as {
        items: Array<{ metadata: { name: string }; status: { phase?: string } }>
      }
      const running = list.items.filter((p) => p.status.phase === "Running")
      return running.length === 2 ? running.map((p) => p.metadata.name) : undefined
    })
    expect(pods).toHaveLength(2)

    const clusterIP = (await kubectl(["get", "service", "web", "-n", ns, "-o", "jsonpath={.spec.clusterIP}"])).trim()
    expect(clusterIP).toMatch(/^10\.96\.\d+\.\d+$/)

    const out = await kubectl(["exec", "-n", ns, pods[0] ?? "", "--", "echo", "hello"])
    expect(out.trim()).toBe("hello")

    await kubectl(["delete", "namespace", ns, "--wait=false"])
    await eventually("namespace finalized", async () => {
      const r = await kubectl(["get", "namespace", ns, "--ignore-not-found", "-o", "name"])
      return r.trim() === "" ? true : undefined
    }, 120_000)
  }, 600_000)

  it("has independent clusters when several are requested", async () => {
    const second = process.env["KUBECONFIG_2"]
    if (second === undefined) return // single-cluster run
    const ns = `testenv-only-2-${Date.now()}`
    await kubectl(["create", "namespace", ns], second)
    const inFirst = await kubectl(["get", "namespace", ns, "--ignore-not-found", "-o", "name"])
    expect(inFirst.trim()).toBe("")
    await kubectl(["delete", "namespace", ns, "--wait=false"], second)
  })

  // Other files write to the same bucket concurrently, so this checks a key of its own, not emptiness.
  it("has an existing MinIO bucket that stores and lists objects", async () => {
    const s3 = new S3Client({ endpoint: env("ARK_TEST_S3_URL"), region: env("AWS_REGION"), forcePathStyle: true })
    const Bucket = env("ARK_TEST_S3_BUCKET")
    const Prefix = `testenv-probe-${Date.now()}/`
    try {
      await s3.send(new HeadBucketCommand({ Bucket }))
      await s3.send(new PutObjectCommand({ Bucket, Key: `${Prefix}probe`, Body: "ok" }))
      const list = await s3.send(new ListObjectsV2Command({ Bucket, Prefix }))
      expect(list.Contents?.map((o) => o.Key)).toEqual([`${Prefix}probe`])
      await s3.send(new DeleteObjectCommand({ Bucket, Key: `${Prefix}probe` }))
    } finally {
      s3.destroy()
    }
  })

  it("has a second MinIO bucket with Object Lock enabled", async () => {
    const s3 = new S3Client({ endpoint: env("ARK_TEST_S3_URL"), region: env("AWS_REGION"), forcePathStyle: true })
    try {
      const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: env("ARK_TEST_S3_LOCKED_BUCKET") }))
      expect(lock.ObjectLockConfiguration?.ObjectLockEnabled).toBe("Enabled")
    } finally {
      s3.destroy()
    }
  })

  it("creates and describes an EBS snapshot on moto", async () => {
    const ec2 = new EC2Client({ endpoint: env("ARK_TEST_EC2_URL"), region: env("AWS_REGION") })
    try {
      const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 1 }))
      expect(vol.VolumeId).toMatch(/^vol-/)
      const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }))
      expect(snap.SnapshotId).toMatch(/^snap-/)
      const described = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap.SnapshotId ?? ""] }))
      expect(described.Snapshots?.[0]?.VolumeId).toBe(vol.VolumeId)
    } finally {
      ec2.destroy()
    }
  })
})
