// The live BlockStoreProvider over the fake API server (config checks, credentials, caching), and
// the Memory provider tests use in its place.
import * as fs from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"

import * as MemoryProvider from "../../layers/blockstore/MemoryProvider.ts"
import * as Provider from "../../layers/blockstore/Provider.ts"
import * as MemoryKube from "../../layers/kube/Memory.ts"
import type { SnapshotLocation } from "../../services/BlockStoreProvider.ts"
import { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import type { KubeObject } from "../../services/KubeClient.ts"

const namespace = "heptio-ark"

const secret = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace },
  data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString("base64")]))
})

const location = (
  spec: Partial<SnapshotLocation["spec"]> = {},
  generation = 1,
  name = "default"
): SnapshotLocation => ({
  metadata: { name, namespace, uid: `uid-${name}`, generation },
  spec: { provider: "aws", config: { region: "us-east-1", ec2Url: "http://127.0.0.1:5000" }, ...spec }
})

const testLayer = Layer.provideMerge(Provider.layer, MemoryKube.layer)

const failureOf = (snapshotLocation: SnapshotLocation) =>
  Effect.flatMap(BlockStoreProvider, (provider) => Effect.flip(provider.forLocation(snapshotLocation)))

describe("live BlockStoreProvider", () => {
  it.effect("explains an unusable location", () =>
    Effect.gen(function*() {
      const control = yield* MemoryKube.MemoryKube
      yield* control.seed([secret("garbled", { cloud: "aws_secret_access_key=s3cr3t" })])
      const gcp = yield* failureOf(location({ provider: "gcp" }))
      assert.include(gcp.message, "unknown provider \"gcp\": expected aws or local")
      assert.strictEqual(gcp.location, "heptio-ark/default")
      const noRegion = yield* failureOf(location({ config: {} }))
      assert.include(noRegion.message, "needs config.region")
      const badUrl = yield* failureOf(location({ config: { region: "us-east-1", ec2Url: "moto:5000" } }))
      assert.include(badUrl.message, "config.ec2Url \"moto:5000\" is not an http(s) URL")
      const typo = yield* failureOf(location({ config: { region: "us-east-1", s3Url: "http://x" } }))
      assert.include(typo.message, "unknown config key(s) for provider aws: s3Url")
      const noPath = yield* failureOf(location({ provider: "local", config: {} }))
      assert.include(noPath.message, "needs config.path")
      const missingSecret = yield* failureOf(location({ credential: { name: "absent", key: "cloud" } }))
      assert.include(missingSecret.message, "cannot read Secret heptio-ark/absent")
      const garbled = yield* failureOf(location({ credential: { name: "garbled", key: "cloud" } }))
      assert.include(garbled.message, "is not an AWS credentials file")
      assert.notInclude(garbled.message, "s3cr3t")
    }).pipe(Effect.provide(testLayer)))

  it.effect("keeps one store per location uid and generation", () =>
    Effect.gen(function*() {
      const control = yield* MemoryKube.MemoryKube
      yield* control.seed([
        secret("creds", { cloud: "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n" })
      ])
      const provider = yield* BlockStoreProvider
      const withCreds = location({ credential: { name: "creds", key: "cloud" } })
      const first = yield* provider.forLocation(withCreds)
      assert.strictEqual(yield* provider.forLocation(withCreds), first)
      assert.notStrictEqual(
        yield* provider.forLocation({ ...withCreds, metadata: { ...withCreds.metadata, generation: 2 } }),
        first
      )
      // No named credential and no cloud-credentials Secret: the SDK's default chain, no error.
      const other = yield* provider.forLocation(location({}, 1, "other"))
      assert.notStrictEqual(other, first)
    }).pipe(Effect.provide(testLayer)))

  it.scoped("a local location snapshots directories under config.path", () =>
    Effect.gen(function*() {
      const root = yield* Effect.acquireRelease(
        Effect.promise(() => fs.mkdtemp(join(tmpdir(), "ark-vsl-"))),
        (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
      )
      const volume = join(root, "volume")
      yield* Effect.promise(() => fs.mkdir(volume).then(() => fs.writeFile(join(volume, "f"), "data")))
      const provider = yield* BlockStoreProvider
      const store = yield* provider.forLocation(location({ provider: "local", config: { path: join(root, "store") } }))
      const snapshotId = yield* store.createSnapshot(volume, "local", {})
      assert.strictEqual(
        yield* Effect.promise(() => fs.readFile(join(root, "store", "snapshots", snapshotId, "f"), "utf8")),
        "data"
      )
    }).pipe(Effect.provide(testLayer)))
})

describe("Memory BlockStoreProvider", () => {
  it.effect("gives each location name its own store, seeded and inspectable", () =>
    Effect.gen(function*() {
      const provider = yield* BlockStoreProvider
      const stores = yield* MemoryProvider.MemoryBlockStores
      const east = yield* provider.forLocation(location({}, 1, "east"))
      assert.strictEqual(yield* provider.forLocation(location({ provider: "local" }, 7, "east")), east)
      const west = yield* provider.forLocation(location({}, 1, "west"))
      assert.notStrictEqual(west, east)

      const snapshotId = yield* east.createSnapshot("vol-1", "us-east-1a", { "ark.heptio.com/backup": "b1" })
      const eastSnapshots = yield* (yield* stores.location("east")).control.snapshots
      assert.deepStrictEqual(eastSnapshots.get(snapshotId)?.tags, { "ark.heptio.com/backup": "b1" })
      assert.strictEqual((yield* (yield* stores.location("west")).control.snapshots).size, 0)
      const missing = yield* Effect.flip(west.createSnapshot("vol-1", "us-east-1a", {}))
      assert.strictEqual(missing._tag, "VolumeNotFound")
      assert.deepStrictEqual(yield* stores.locations, ["east", "west"])
      assert.deepStrictEqual(
        yield* east.getVolumeId({
          apiVersion: "v1",
          kind: "PersistentVolume",
          metadata: {},
          spec: { awsElasticBlockStore: { volumeID: "vol-1" } }
        }),
        Option.some("vol-1")
      )
    }).pipe(
      Effect.provide(
        MemoryProvider.layer({
          volumes: { east: [{ volumeId: "vol-1", availabilityZone: "us-east-1a", volumeType: "gp3" }] }
        })
      )
    ))

  it.effect("rejects a location on request", () =>
    Effect.gen(function*() {
      const stores = yield* MemoryProvider.MemoryBlockStores
      yield* stores.rejectLocation("broken", "cannot read Secret heptio-ark/creds")
      const error = yield* failureOf(location({}, 1, "broken"))
      assert.deepStrictEqual({ location: error.location, message: error.message }, {
        location: "broken",
        message: "cannot read Secret heptio-ark/creds"
      })
    }).pipe(Effect.provide(MemoryProvider.layer())))
})
