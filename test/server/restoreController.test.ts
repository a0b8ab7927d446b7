// The restore controller over the fake API server and fake buckets: a Restore runs to Completed
// with its objects created, validation names the backup and its phase, backups are found in
// storage and through schedules, restore-only mode, the concurrency cap, and crash recovery.
import { assert, describe, it } from "@effect/vitest"
import { generateX25519Identity, identityToRecipient } from "age-encryption"
import { Deferred, Effect, Layer, Option, Schema, Stream } from "effect"

import { MemoryObjectStores } from "../../layers/objectstore/MemoryProvider.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import { Backup } from "../../src/api/index.ts"
import type { BackupDeps } from "../../src/backup/run.ts"
import { runBackup } from "../../src/backup/run.ts"
import { getLocation } from "../../src/locations/resolve.ts"
import { interruptedByRestart } from "../../src/server/controllers/restore.ts"
import { controllers } from "../../src/server/main.ts"
import { syncLocation } from "../../src/sync/run.ts"
import {
  backup,
  backups,
  gvr,
  installArk,
  location,
  locations,
  memoryLayer,
  seedApp,
  serverNamespace,
  statusOf,
  waitForPhase
} from "./fixtures.ts"

const restores = gvr("restores")
const configMaps = { group: "", version: "v1", resource: "configmaps" }
const finished = ["Completed", "PartiallyFailed", "Failed", "FailedValidation"] as const

const startServer = (options: { readonly restoreOnly?: boolean; readonly restoreConcurrency?: number } = {}) =>
  Layer.build(
    controllers({
      namespace: serverNamespace,
      restoreOnly: options.restoreOnly ?? false,
      backupConcurrency: 2,
      restoreConcurrency: options.restoreConcurrency ?? 2,
      locationValidationPeriod: "1 hour",
      progressInterval: "50 millis"
    })
  )

const restore = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "ark.heptio.com/v1",
  kind: "Restore",
  metadata: { name, namespace: serverNamespace },
  spec
})

/** A Completed backup taken by the backup pipeline into `bucket`, and its Backup resource. */
const takeBackup = (
  name: string,
  spec: Record<string, unknown>,
  bucket = "ark",
  labels: Record<string, string> = {},
  options: Partial<BackupDeps> = {}
) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const stores = yield* MemoryObjectStores
    const created = yield* kube.create(backups, {
      ...backup(name, spec),
      metadata: { name, namespace: serverNamespace, labels }
    })
    const decoded = yield* Schema.decodeUnknown(Backup)(created)
    const done = yield* runBackup(decoded, { storageLocations: ["default", "gated"], ...options }).pipe(
      Effect.provideService(ObjectStore, yield* stores.store(bucket))
    )
    assert.strictEqual(done.status?.phase, "Completed", JSON.stringify(done.status))
    yield* kube.patchStatus(backups, name, { type: "merge", body: { status: done.status } }, serverNamespace)
    return done
  })

const keysIn = (bucket: string) =>
  Effect.gen(function*() {
    const stores = yield* MemoryObjectStores
    const listing = yield* (yield* stores.store(bucket)).list("")
    return listing.objects.map((object) => object.key)
  })

const labelsOf = (object: KubeObject) => object.metadata.labels ?? {}

const newKey = Effect.promise(async () => {
  const identity = await generateX25519Identity()
  return { identity, recipient: await identityToRecipient(identity) }
})

const secrets = { group: "", version: "v1", resource: "secrets" }

const identitySecret = (keys: string) =>
  ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "age-identity", namespace: serverNamespace },
    data: { identity: Buffer.from(keys).toString("base64") }
  }) satisfies KubeObject

/** The location "default" reads encrypted backups with `keys`, from a Secret. */
const giveIdentity = (keys: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* kube.create(secrets, identitySecret(keys))
    yield* kube.patch(locations, "default", {
      type: "merge",
      body: { spec: { encryption: { identitySecret: { name: "age-identity", key: "identity" } } } }
    }, serverNamespace)
  })

describe("restore controller", () => {
  it.scopedLive(
    "an encrypted backup restores only with an identity that opens it; without, FailedValidation and nothing created",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const [key, other] = [yield* newKey, yield* newKey]
        yield* installArk
        yield* seedApp("shop", 2)
        yield* kube.create(locations, location("default", {}))
        yield* takeBackup("sealed", { includedNamespaces: ["shop"] }, "ark", {}, { recipients: [key.recipient] })
        yield* startServer()
        const attempt = (name: string) =>
          kube.create(restores, restore(name, { backupName: "sealed", namespaceMapping: { shop: name } })).pipe(
            Effect.zipRight(waitForPhase(restores, name, ...finished)),
            Effect.map((done) => statusOf(done))
          )
        const refused = (name: string, reason: string) =>
          Effect.gen(function*() {
            const status = yield* attempt(name)
            assert.strictEqual(status["phase"], "FailedValidation", JSON.stringify(status))
            assert.include(String(status["validationErrors"]), reason)
            const created = yield* kube.get(configMaps, "config-0", name).pipe(
              Effect.as(true),
              Effect.catchTag("KubeNotFound", () => Effect.succeed(false))
            )
            assert.isFalse(created)
          })
        yield* refused(
          "no-identity",
          `backup "sealed" is encrypted with age: backup storage location "default" names no identity Secret`
        )
        yield* giveIdentity(`${other.identity}\n`)
        yield* refused("wrong-identity", "none of the identity's keys is a recipient of this file")
        yield* kube.update(secrets, identitySecret(`${other.identity}\n${key.identity}\n`))
        const status = yield* attempt("both-keys")
        assert.strictEqual(status["phase"], "Completed", JSON.stringify(status))
        const copy = yield* kube.get(configMaps, "config-1", "both-keys")
        assert.deepStrictEqual(copy["data"], { index: "1" })
        // The identity is in no status.
        for (const name of ["no-identity", "wrong-identity", "both-keys"]) {
          const text = JSON.stringify(yield* kube.get(restores, name, serverNamespace))
          assert.notInclude(text, key.identity.slice(16))
          assert.notInclude(text, other.identity.slice(16))
        }
      }).pipe(Effect.provide(memoryLayer))
  )

  it.scopedLive(
    "an encrypted backup synced without an identity is its minimal record, and restores once the location has one; with it, sync imports the whole Backup",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const key = yield* newKey
        yield* installArk
        yield* seedApp("shop", 2)
        yield* kube.create(locations, location("default", {}))
        const spec = { includedNamespaces: ["shop"], labelSelector: { matchLabels: { app: "demo" } } }
        const labels = { team: "shop-owners" }
        const taken = new Map<string, Backup>()
        for (const name of ["sealed", "whole"]) {
          taken.set(name, yield* takeBackup(name, spec, "ark", labels, { recipients: [key.recipient] }))
          yield* kube.delete(backups, name, serverNamespace)
        }
        const sync = getLocation(serverNamespace, "default").pipe(Effect.flatMap((found) => syncLocation(found)))
        assert.deepStrictEqual((yield* sync).imported, ["sealed", "whole"])
        const imported = (name: string) => kube.get(backups, name, serverNamespace)
        const minimal = yield* imported("sealed")
        assert.notProperty(labelsOf(minimal), "team")
        assert.notDeepEqual((minimal["spec"] as Record<string, unknown>)["includedNamespaces"], ["shop"])
        assert.notProperty(minimal["spec"], "labelSelector")
        assert.deepStrictEqual(statusOf(minimal), JSON.parse(JSON.stringify(taken.get("sealed")?.status)))

        yield* giveIdentity(`${key.identity}\n`)
        yield* kube.delete(backups, "whole", serverNamespace)
        assert.deepStrictEqual((yield* sync).imported, ["whole"])
        const whole = yield* imported("whole")
        assert.strictEqual(labelsOf(whole)["team"], "shop-owners")
        assert.deepStrictEqual((whole["spec"] as Record<string, unknown>)["includedNamespaces"], ["shop"])
        assert.deepStrictEqual((whole["spec"] as Record<string, unknown>)["labelSelector"], spec.labelSelector)
        assert.deepStrictEqual(statusOf(whole), JSON.parse(JSON.stringify(taken.get("whole")?.status)))

        yield* startServer()
        yield* kube.create(
          restores,
          restore("from-minimal", { backupName: "sealed", namespaceMapping: { shop: "copy" } })
        )
        const done = statusOf(yield* waitForPhase(restores, "from-minimal", ...finished))
        assert.strictEqual(done["phase"], "Completed", JSON.stringify(done))
        assert.deepStrictEqual((yield* kube.get(configMaps, "config-1", "copy"))["data"], { index: "1" })
      }).pipe(Effect.provide(memoryLayer))
  )

  it.scopedLive(
    "runs a new Restore to Completed: objects created in the mapped namespace, labelled, files uploaded",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        yield* installArk
        yield* seedApp("shop", 3)
        yield* kube.create(locations, location("default", {}))
        yield* takeBackup("nightly", { includedNamespaces: ["shop"] })
        yield* startServer()
        yield* kube.create(
          restores,
          restore("nightly-restore", { backupName: "nightly", namespaceMapping: { shop: "shop-copy" } })
        )

        const done = yield* waitForPhase(restores, "nightly-restore", ...finished)
        const status = statusOf(done)
        assert.strictEqual(status["phase"], "Completed", JSON.stringify(status))
        assert.isString(status["startTimestamp"])
        assert.isString(status["completionTimestamp"])
        const progress = status["progress"] as { itemsRestored: number; totalItems: number }
        assert.isAtLeast(progress.itemsRestored, 3)
        assert.strictEqual(progress.itemsRestored, progress.totalItems)
        for (let i = 0; i < 3; i++) {
          const copy = yield* kube.get(configMaps, `config-${i}`, "shop-copy")
          assert.deepStrictEqual(copy["data"], { index: String(i) })
          assert.strictEqual(labelsOf(copy)["ark.heptio.com/restore-name"], "nightly-restore")
          assert.strictEqual(labelsOf(copy)["ark.heptio.com/backup-name"], "nightly")
        }
        const keys = yield* keysIn("ark")
        assert.include(keys, "restores/nightly-restore/restore-nightly-restore-logs.gz")
        assert.include(keys, "restores/nightly-restore/restore-nightly-restore-results.gz")
      }).pipe(Effect.provide(memoryLayer))
  )

  it.scopedLive(
    "FailedValidation names a missing backup, and a Failed one with its phase; nothing is restored",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        yield* installArk
        yield* kube.create(locations, location("default", {}))
        yield* kube.create(backups, backup("broken", {}))
        yield* kube.patchStatus(
          backups,
          "broken",
          { type: "merge", body: { status: { phase: "Failed" } } },
          serverNamespace
        )
        yield* startServer()
        yield* kube.create(restores, restore("from-ghost", { backupName: "ghost" }))
        yield* kube.create(restores, restore("from-broken", { backupName: "broken" }))

        const ghost = (statusOf(yield* waitForPhase(restores, "from-ghost", ...finished))["validationErrors"] ??
          []) as ReadonlyArray<string>
        assert.strictEqual(
          statusOf(yield* kube.get(restores, "from-ghost", serverNamespace))["phase"],
          "FailedValidation"
        )
        assert.isTrue(ghost.some((problem) => problem.includes("ghost")), JSON.stringify(ghost))

        const broken = yield* waitForPhase(restores, "from-broken", ...finished)
        assert.strictEqual(statusOf(broken)["phase"], "FailedValidation")
        const problems = statusOf(broken)["validationErrors"] as ReadonlyArray<string>
        assert.isTrue(
          problems.some((problem) => problem.includes("broken") && problem.includes("Failed")),
          JSON.stringify(problems)
        )
        assert.isFalse((yield* keysIn("ark")).some((key) => key.startsWith("restores/")))
      }).pipe(Effect.provide(memoryLayer))
  )

  it.scopedLive(
    "resource modifiers: a bad rule is FailedValidation naming it; good rules patch the restored objects",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        yield* installArk
        yield* seedApp("shop", 2)
        yield* kube.create(locations, location("default", {}))
        yield* takeBackup("nightly", { includedNamespaces: ["shop"] })
        const rules = (second: string) =>
          `version: v1
resourceModifierRules:
- conditions:
    groupResource: configmaps
    resourceNameRegex: "^config-1$"
    namespaces: [shop]
  mergePatches:
  - patchData: '{"data": {"index": "patched"}}'
- conditions:
${second}
  patches:
  - operation: add
    path: /metadata/labels/modified
    value: "yes"
`
        for (const [name, second] of [["bad-rules", "    namespaces: [shop]"], ["rules", "    groupResource: \"*\""]]) {
          yield* kube.create(configMaps, {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: name!, namespace: serverNamespace },
            data: { "modifiers.yaml": rules(second!) }
          })
        }
        yield* startServer()
        yield* kube.create(
          restores,
          restore("refused", { backupName: "nightly", resourceModifier: { kind: "ConfigMap", name: "bad-rules" } })
        )
        const refused = statusOf(yield* waitForPhase(restores, "refused", ...finished))
        assert.strictEqual(refused["phase"], "FailedValidation")
        assert.deepStrictEqual(refused["validationErrors"], [
          `resourceModifier: ConfigMap "bad-rules" in namespace ${serverNamespace}: resourceModifierRules[1]: ` +
          "conditions.groupResource is required (e.g. deployments.apps, *.apps, *)"
        ])
        yield* kube.create(
          restores,
          restore("modified", {
            backupName: "nightly",
            namespaceMapping: { shop: "shop-copy" },
            resourceModifier: { kind: "ConfigMap", name: "rules" }
          })
        )
        const done = statusOf(yield* waitForPhase(restores, "modified", ...finished))
        assert.strictEqual(done["phase"], "Completed", JSON.stringify(done))
        const first = yield* kube.get(configMaps, "config-0", "shop-copy")
        const second = yield* kube.get(configMaps, "config-1", "shop-copy")
        assert.deepStrictEqual(first["data"], { index: "0" })
        assert.deepStrictEqual(second["data"], { index: "patched" })
        assert.strictEqual(labelsOf(first)["modified"], "yes")
        assert.strictEqual(labelsOf(second)["modified"], "yes")
      }).pipe(Effect.provide(memoryLayer))
  )

  it.scopedLive(
    "a backup that exists only in storage (another cluster's) is found through its ark-backup.json",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        yield* installArk
        yield* seedApp("shop", 2)
        yield* kube.create(locations, location("default", {}))
        yield* takeBackup("migrated", { includedNamespaces: ["shop"] })
        yield* kube.delete(backups, "migrated", serverNamespace)
        yield* startServer()
        yield* kube.create(
          restores,
          restore("arrival", { backupName: "migrated", namespaceMapping: { shop: "shop-2" } })
        )
        const done = yield* waitForPhase(restores, "arrival", ...finished)
        assert.strictEqual(statusOf(done)["phase"], "Completed", JSON.stringify(statusOf(done)))
        yield* kube.get(configMaps, "config-1", "shop-2")
      }).pipe(Effect.provide(memoryLayer))
  )

  it.scopedLive(
    "spec.scheduleName restores the schedule's newest Completed backup and records its name",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        yield* installArk
        yield* seedApp("shop", 1)
        yield* kube.create(locations, location("default", {}))
        const daily = { "ark.heptio.com/schedule-name": "daily" }
        yield* takeBackup("daily-1", { includedNamespaces: ["shop"] }, "ark", daily)
        yield* takeBackup("daily-2", { includedNamespaces: ["shop"] }, "ark", daily)
        yield* takeBackup("other", { includedNamespaces: ["shop"] })
        const complete = (name: string, completionTimestamp: string, phase = "Completed") =>
          kube.patchStatus(
            backups,
            name,
            { type: "merge", body: { status: { phase, completionTimestamp } } },
            serverNamespace
          )
        yield* complete("daily-1", "2024-05-01T00:00:00Z")
        yield* complete("daily-2", "2024-05-02T00:00:00Z")
        yield* complete("other", "2024-05-03T00:00:00Z")
        yield* kube.create(backups, {
          ...backup("daily-3", {}),
          metadata: { name: "daily-3", namespace: serverNamespace, labels: daily }
        })
        yield* complete("daily-3", "2024-05-04T00:00:00Z", "Failed")

        yield* startServer()
        yield* kube.create(
          restores,
          restore("latest", { scheduleName: "daily", namespaceMapping: { shop: "shop-latest" } })
        )
        yield* kube.create(restores, restore("never", { scheduleName: "weekly" }))
        const done = yield* waitForPhase(restores, "latest", ...finished)
        assert.strictEqual(statusOf(done)["phase"], "Completed", JSON.stringify(statusOf(done)))
        assert.strictEqual((done["spec"] as { backupName?: string }).backupName, "daily-2")
        const never = yield* waitForPhase(restores, "never", ...finished)
        assert.strictEqual(statusOf(never)["phase"], "FailedValidation")
        assert.include(String(statusOf(never)["validationErrors"]), "schedule \"weekly\" has no Completed backup")
      }).pipe(Effect.provide(memoryLayer))
  )

  it.scopedLive("--restore-only: a Restore completes while a Backup stays New", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* installArk
      yield* seedApp("shop", 2)
      yield* kube.create(locations, location("default", {}))
      yield* takeBackup("nightly", { includedNamespaces: ["shop"] })
      yield* startServer({ restoreOnly: true })
      yield* kube.create(backups, backup("pending", {}))
      yield* kube.create(
        restores,
        restore("migration", { backupName: "nightly", namespaceMapping: { shop: "shop-b" } })
      )
      const done = yield* waitForPhase(restores, "migration", ...finished)
      assert.strictEqual(statusOf(done)["phase"], "Completed", JSON.stringify(statusOf(done)))
      // The restore was created after the backup and is done: a backup controller would have started it.
      assert.isUndefined(statusOf(yield* kube.get(backups, "pending", serverNamespace))["phase"])
      assert.isFalse((yield* keysIn("ark")).some((key) => key.startsWith("backups/pending/")))
    }).pipe(Effect.provide(memoryLayer)))

  it.scopedLive(
    "--restore-concurrency 1: a second restore waits in New until the first finishes",
    () =>
      Effect.flatMap(Deferred.make<void>(), (gate) =>
        Effect.gen(function*() {
          const kube = yield* KubeClient
          yield* installArk
          yield* seedApp("shop", 1)
          yield* kube.create(locations, location("gated", { objectStorage: { bucket: "gated" } }))
          yield* takeBackup("nightly", { includedNamespaces: ["shop"], storageLocation: "gated" }, "gated")
          yield* startServer({ restoreConcurrency: 1 })
          yield* kube.create(restores, restore("first", { backupName: "nightly", namespaceMapping: { shop: "one" } }))
          yield* waitForPhase(restores, "first", "InProgress")
          yield* kube.create(restores, restore("second", { backupName: "nightly", namespaceMapping: { shop: "two" } }))
          // Absence cannot be awaited: watch the second restore for a while; it must not start.
          const started = yield* waitForPhase(restores, "second", "InProgress", ...finished).pipe(
            Effect.timeout("1 second"),
            Effect.option
          )
          assert.isTrue(Option.isNone(started), "the second restore started while the first held the only permit")
          yield* Deferred.succeed(gate, undefined)
          for (const name of ["first", "second"]) {
            assert.strictEqual(statusOf(yield* waitForPhase(restores, name, ...finished))["phase"], "Completed")
          }
        }).pipe(Effect.provide(gatedStore(gate))))
  )

  it.scopedLive("a Restore left InProgress by a crash is marked Failed at start", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* installArk
      yield* kube.create(locations, location("default", {}))
      const created = yield* kube.create(restores, restore("interrupted", { backupName: "nightly" }))
      yield* kube.updateStatus(restores, {
        ...created,
        status: { phase: "InProgress", startTimestamp: "2024-05-01T12:00:00Z" }
      })
      yield* startServer()
      const done = yield* waitForPhase(restores, "interrupted", "Failed")
      assert.strictEqual(statusOf(done)["failureReason"], interruptedByRestart)
      assert.isString(statusOf(done)["completionTimestamp"])
    }).pipe(Effect.provide(memoryLayer)))
})

/** The memory provider, except that reading a tarball from the `gated` bucket waits for the gate. */
const gatedStore = (gate: Deferred.Deferred<void>) =>
  Layer.effect(
    ObjectStoreProvider,
    Effect.gen(function*() {
      const inner = yield* ObjectStoreProvider
      return {
        forLocation: (location) =>
          inner.forLocation(location).pipe(
            Effect.map((store): ObjectStore.Shape =>
              location.spec.objectStorage.bucket !== "gated" ? store : {
                ...store,
                get: (key) =>
                  key.endsWith(".tar.gz")
                    ? Stream.unwrap(Deferred.await(gate).pipe(Effect.as(store.get(key))))
                    : store.get(key)
              }
            )
          )
      }
    })
  ).pipe(Layer.provideMerge(memoryLayer))
