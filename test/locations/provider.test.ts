// The live ObjectStoreProvider over the fake API server: credentials from Secrets (never echoed),
// config checks, filesystem roots, and one cached store per location generation.
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted, Stream } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import * as Provider from "../../layers/objectstore/Provider.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { StorageLocation } from "../../services/ObjectStoreProvider.ts"
import { ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"

const namespace = "heptio-ark"
const secrets = { group: "", version: "v1", resource: "secrets" }
const secretText = "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cr3t/value+xyz\n"

const secret = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace },
  data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString("base64")]))
})

const awsLocation = (spec: Partial<StorageLocation["spec"]> = {}, generation = 1): StorageLocation => ({
  metadata: { name: "default", namespace, uid: "uid-1", generation },
  spec: {
    provider: "aws",
    objectStorage: { bucket: "ark" },
    config: { region: "us-east-1", s3Url: "http://127.0.0.1:9000" },
    ...spec
  }
})

const testLayer = Layer.provideMerge(Provider.layer, MemoryKube.layer)

const failureOf = (location: StorageLocation) =>
  Effect.flatMap(ObjectStoreProvider, (provider) => Effect.flip(provider.forLocation(location)))

describe("parseSharedCredentials", () => {
  it("reads the default profile, or a named one, ignoring comments and spacing", () => {
    const text =
      "# creds\n[other]\naws_access_key_id=OTHER\naws_secret_access_key=x\n\n[default]\r\n aws_access_key_id = AK \r\naws_secret_access_key=SK\naws_session_token = TOK\n"
    const parsed = Provider.parseSharedCredentials(text)
    assert.isTrue(Option.isSome(parsed))
    if (Option.isSome(parsed)) {
      assert.strictEqual(parsed.value.accessKeyId, "AK")
      assert.strictEqual(Redacted.value(parsed.value.secretAccessKey), "SK")
      assert.strictEqual(
        parsed.value.sessionToken === undefined ? undefined : Redacted.value(parsed.value.sessionToken),
        "TOK"
      )
      // The secret never prints.
      assert.notInclude(String(parsed.value.secretAccessKey), "SK")
    }
    const other = Provider.parseSharedCredentials(text, "other")
    assert.strictEqual(Option.getOrUndefined(other)?.accessKeyId, "OTHER")
  })

  it("is None without both keys in the profile", () => {
    assert.isTrue(Option.isNone(Provider.parseSharedCredentials("[default]\naws_access_key_id=AK\n")))
    assert.isTrue(
      Option.isNone(Provider.parseSharedCredentials("[other]\naws_access_key_id=AK\naws_secret_access_key=SK\n"))
    )
    assert.isTrue(Option.isNone(Provider.parseSharedCredentials("not an ini file")))
  })
})

describe("live ObjectStoreProvider", () => {
  it.effect("explains an unusable location without echoing any credential", () =>
    Effect.gen(function*() {
      const control = yield* MemoryKube.MemoryKube
      yield* control.seed([
        secret("wrong-key", { other: secretText }),
        secret("garbled", { cloud: "aws_secret_access_key=s3cr3t/value+xyz" })
      ])

      const missing = yield* failureOf(awsLocation({ credential: { name: "absent", key: "cloud" } }))
      assert.include(missing.message, "cannot read Secret heptio-ark/absent")
      const noKey = yield* failureOf(awsLocation({ credential: { name: "wrong-key", key: "cloud" } }))
      assert.strictEqual(noKey.message, "Secret heptio-ark/wrong-key has no key cloud")
      const garbled = yield* failureOf(awsLocation({ credential: { name: "garbled", key: "cloud" } }))
      assert.include(garbled.message, "is not an AWS credentials file")
      assert.notInclude(garbled.message, "s3cr3t")

      const badUrl = yield* failureOf(awsLocation({ config: { s3Url: "minio:9000" } }))
      assert.include(badUrl.message, "config.s3Url \"minio:9000\" is not an http(s) URL")
      const badStyle = yield* failureOf(awsLocation({ config: { s3ForcePathStyle: "yes" } }))
      assert.include(badStyle.message, "s3ForcePathStyle")
      const typo = yield* failureOf(awsLocation({ config: { regoin: "eu-west-1" } }))
      assert.include(typo.message, "unknown config key(s) for provider aws: regoin")
      const gcp = yield* failureOf(awsLocation({ provider: "gcp" }))
      assert.include(gcp.message, "unknown provider \"gcp\"")
      const noPath = yield* failureOf(awsLocation({ provider: "filesystem", config: {} }))
      assert.include(noPath.message, "needs config.path")
    }).pipe(Effect.provide(testLayer)))

  it.effect("keeps one store per location generation and credential version", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      const provider = yield* ObjectStoreProvider
      yield* kube.create({ group: "", version: "v1", resource: "namespaces" }, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: namespace }
      })
      const created = yield* kube.create(secrets, secret("creds", { cloud: secretText }))
      const location = awsLocation({ credential: { name: "creds", key: "cloud" } })
      const first = yield* provider.forLocation(location)
      // A status write bumps resourceVersion but not generation: same store.
      assert.strictEqual(
        yield* provider.forLocation({ ...location, metadata: { ...location.metadata, resourceVersion: "99" } }),
        first
      )
      const edited = yield* provider.forLocation(awsLocation({ credential: { name: "creds", key: "cloud" } }, 2))
      assert.notStrictEqual(edited, first)
      // A rotated Secret gives a new client too.
      yield* kube.update(secrets, {
        ...secret("creds", { cloud: secretText.replace("AKIAEXAMPLE", "AKIANEW") }),
        metadata: created.metadata
      })
      assert.notStrictEqual(
        yield* provider.forLocation(awsLocation({ credential: { name: "creds", key: "cloud" } }, 2)),
        edited
      )
      // Without a named credential and without cloud-credentials: the SDK's default chain, no error.
      yield* provider.forLocation(awsLocation({}, 3))
    }).pipe(Effect.provide(testLayer)))

  it.effect("a filesystem location keeps its objects under path/bucket/prefix", () =>
    Effect.gen(function*() {
      const root = mkdtempSync(join(tmpdir(), "ark-provider-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(root, { recursive: true, force: true })))
      const provider = yield* ObjectStoreProvider
      const store = yield* provider.forLocation({
        metadata: { name: "local", namespace, uid: "uid-fs", generation: 1 },
        spec: { provider: "filesystem", objectStorage: { bucket: "ark", prefix: "cluster-a" }, config: { path: root } }
      })
      yield* store.put("backups/b/ark-backup.json", Stream.make(new TextEncoder().encode("{}")))
      assert.strictEqual(readFileSync(join(root, "ark", "cluster-a", "backups", "b", "ark-backup.json"), "utf8"), "{}")
    }).pipe(Effect.scoped, Effect.provide(testLayer)))
})
