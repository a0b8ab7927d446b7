import { assert, describe, it } from "@effect/vitest"
import { Redacted } from "effect"

import { classifyS3Error, clientConfig, isRetryableS3Error } from "../../layers/objectstore/S3.ts"

const sdkError = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), {
    name,
    ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
    ...extra
  })

describe("S3 error classification", () => {
  it("a missing key is ObjectNotFound, a missing bucket is a storage error", () => {
    assert.strictEqual(classifyS3Error("get", "k", sdkError("NoSuchKey", 404))._tag, "ObjectNotFound")
    assert.strictEqual(classifyS3Error("exists", "k", sdkError("NotFound", 404))._tag, "ObjectNotFound")
    const bucket = classifyS3Error("get", "k", sdkError("NoSuchBucket", 404))
    assert.strictEqual(bucket._tag, "ObjectStoreError")
    if (bucket._tag === "ObjectStoreError") assert.isFalse(bucket.retryable)
  })

  it("throttling, 5xx and broken connections are retryable; access denied is not", () => {
    assert.isTrue(isRetryableS3Error(sdkError("SlowDown", 503)))
    assert.isTrue(isRetryableS3Error(sdkError("InternalError", 500)))
    assert.isTrue(isRetryableS3Error(sdkError("Whatever", 429)))
    assert.isTrue(isRetryableS3Error(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })))
    assert.isFalse(isRetryableS3Error(sdkError("AccessDenied", 403)))
    const denied = classifyS3Error("put", "backups/b1/ark-backup.json", sdkError("AccessDenied", 403))
    assert.strictEqual(denied._tag, "ObjectStoreError")
    if (denied._tag === "ObjectStoreError") {
      assert.strictEqual(denied.message, "AccessDenied (HTTP 403): AccessDenied happened")
      assert.strictEqual(denied.operation, "put")
    }
  })
})

describe("S3 client configuration", () => {
  it("passes endpoint, path style and unwrapped credentials; leaves unset fields to the SDK chain", () => {
    const config = clientConfig({
      bucket: "ark",
      region: "us-west-2",
      s3Url: "http://127.0.0.1:9000",
      s3ForcePathStyle: true,
      credentials: { accessKeyId: "AKIA", secretAccessKey: Redacted.make("s3cr3t") }
    })
    assert.deepStrictEqual(config, {
      region: "us-west-2",
      endpoint: "http://127.0.0.1:9000",
      forcePathStyle: true,
      credentials: { accessKeyId: "AKIA", secretAccessKey: "s3cr3t" }
    })
    assert.deepStrictEqual(clientConfig({ bucket: "ark" }), {})
  })
})
