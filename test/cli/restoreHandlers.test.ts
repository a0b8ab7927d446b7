// The restore handlers on the in-memory API server and object store: create (defaults, the default
// name from the clock, mappings), --dry-run on a partly-present namespace, --wait against the real
// restore controller, get/describe/logs/delete.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Schema, TestClock } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import { Backup } from "../../src/api/index.ts"
import { runBackup } from "../../src/backup/run.ts"
import type { CreateArgs } from "../../src/cli/restore/create.ts"
import { createRestore } from "../../src/cli/restore/create.ts"
import { deleteRestore } from "../../src/cli/restore/delete.ts"
import { restoreLogs } from "../../src/cli/restore/files.ts"
import { describeRestoreCommand, getRestores } from "../../src/cli/restore/read.ts"
import { noRestoreFlags } from "../../src/cli/restore/spec.ts"
import { controllers } from "../../src/server/main.ts"
import { waitFor } from "../support/wait.ts"
import type { Harness } from "./harness.ts"
import { backupsGvr, cliFailure, gzip, locationsGvr, makeHarness, putObject, run, serverNamespace } from "./harness.ts"

const restoresGvr = { group: "ark.heptio.com", version: "v1", resource: "restores" }
const configMapsGvr = { group: "", version: "v1", resource: "configmaps" }

const createArgs = (overrides: Partial<CreateArgs> = {}): CreateArgs => ({
  ...noRestoreFlags,
  fromBackup: Option.some("nightly"),
  name: Option.some("nightly-restore"),
  namespace: serverNamespace,
  dryRun: false,
  wait: false,
  ...overrides
})

const configMap = (name: string, value: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "shop", labels: { app: "shop" } },
  data: { value }
})

/** Namespace `shop` with three ConfigMaps, backed up by the real pipeline as the Completed backup `nightly`. */
const seedBackup = (harness: Harness) =>
  Effect.gen(function*() {
    const kube = harness.kube
    yield* harness.control.seed([configMap("config-0", "a"), configMap("config-1", "b"), configMap("config-2", "c")])
    yield* kube.create(locationsGvr, {
      apiVersion: "ark.heptio.com/v1",
      kind: "BackupStorageLocation",
      metadata: { name: "default", namespace: serverNamespace },
      spec: { provider: "aws", objectStorage: { bucket: "ark" } }
    })
    const created = yield* kube.create(backupsGvr, {
      apiVersion: "ark.heptio.com/v1",
      kind: "Backup",
      metadata: { name: "nightly", namespace: serverNamespace },
      spec: { includedNamespaces: ["shop"] }
    })
    const done = yield* runBackup(yield* Schema.decodeUnknown(Backup)(created), { storageLocations: ["default"] }).pipe(
      Effect.provideService(ObjectStore, harness.store),
      Effect.provideService(KubeClient, kube)
    )
    assert.strictEqual(done.status?.phase, "Completed")
    yield* kube.patchStatus(backupsGvr, "nightly", { type: "merge", body: { status: done.status } }, serverNamespace)
  }).pipe(Effect.orDie)

/** A Backup resource named "nightly": `restore create` refuses a backup that does not exist. */
const backupExists = (harness: Harness) =>
  harness.kube.create(backupsGvr, {
    apiVersion: "ark.heptio.com/v1",
    kind: "Backup",
    metadata: { name: "nightly", namespace: serverNamespace },
    spec: { includedNamespaces: ["shop"] }
  }).pipe(Effect.orDie)

const withHarness = <A, E, R>(body: (harness: Harness) => Effect.Effect<A, E, R>, tty = false) =>
  makeHarness({ tty }).pipe(Effect.flatMap((harness) => body(harness)))

const getRestore = (harness: Harness, name = "nightly-restore") => harness.kube.get(restoresGvr, name, serverNamespace)

const setStatus = (harness: Harness, status: Record<string, unknown>, name = "nightly-restore") =>
  harness.kube.patchStatus(restoresGvr, name, { type: "merge", body: { status } }, serverNamespace)

describe("ark restore create", () => {
  it.effect("with defaults: the name <backup>-<YYYYMMDDhhmmss> from the clock, the defaults written out", () =>
    withHarness((harness) =>
      Effect.gen(function*() {
        yield* backupExists(harness)
        yield* TestClock.setTime(Date.parse("2024-05-01T12:34:56.789Z"))
        yield* run(harness, createRestore(createArgs({ name: Option.none() })))
        const created = yield* getRestore(harness, "nightly-20240501123456")
        assert.deepStrictEqual(created["spec"], {
          backupName: "nightly",
          restorePVs: true,
          existingResourcePolicy: "none"
        })
        assert.deepStrictEqual(created.metadata.labels, { "ark.heptio.com/backup-name": "nightly" })
        assert.strictEqual(harness.stdout[0], "Restore request \"nightly-20240501123456\" submitted successfully.")
      })
    ))

  it.effect("namespace mappings and filters go into the spec", () =>
    withHarness((harness) =>
      Effect.gen(function*() {
        yield* backupExists(harness)
        yield* run(
          harness,
          createRestore(createArgs({
            namespaceMappings: ["abc:def", "123:456"],
            includeNamespaces: ["abc", "123"],
            existingResourcePolicy: "update",
            restoreVolumes: Option.some(false)
          }))
        )
        assert.deepStrictEqual((yield* getRestore(harness))["spec"], {
          backupName: "nightly",
          includedNamespaces: ["abc", "123"],
          namespaceMapping: { abc: "def", "123": "456" },
          restorePVs: false,
          existingResourcePolicy: "update"
        })
      })
    ))

  it.effect("two sources onto one target are refused before anything is created", () =>
    withHarness((harness) =>
      Effect.gen(function*() {
        const error = yield* cliFailure(run(harness, createRestore(createArgs({ namespaceMappings: ["a:x", "b:x"] }))))
        assert.strictEqual(error.message, "invalid --namespace-mappings: \"a\", \"b\" are all mapped to \"x\"")
        assert.isDefined(error.hint)
        assert.strictEqual((yield* Effect.flip(getRestore(harness)))._tag, "KubeNotFound")
      })
    ))

  it.effect("bad mapping syntax is one line and a hint, and nothing is created", () =>
    withHarness((harness) =>
      Effect.gen(function*() {
        const error = yield* cliFailure(run(harness, createRestore(createArgs({ namespaceMappings: ["abc=def"] }))))
        assert.strictEqual(error.message, "invalid --namespace-mappings entry \"abc=def\": expected old:new")
        assert.strictEqual(
          error.hint,
          "give old:new pairs separated by commas, e.g. --namespace-mappings abc:def,123:456"
        )
        assert.strictEqual((yield* Effect.flip(getRestore(harness)))._tag, "KubeNotFound")
      })
    ))

  it.effect("--resource-modifier-configmap: a bad rule is refused naming it, nothing created; a good one is referenced", () =>
    withHarness((harness) =>
      Effect.gen(function*() {
        yield* backupExists(harness)
        const rules = (groupResource: string) => ({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: groupResource === "" ? "bad" : "good", namespace: serverNamespace },
          data: {
            "rules.yaml": `version: v1\nresourceModifierRules:\n- conditions: {groupResource: "${groupResource}"}\n` +
              "  patches: [{operation: add, path: /metadata/labels/x, value: y}]\n"
          }
        })
        yield* harness.kube.create(configMapsGvr, rules("")).pipe(Effect.orDie)
        yield* harness.kube.create(configMapsGvr, rules("configmaps")).pipe(Effect.orDie)
        const error = yield* cliFailure(
          run(harness, createRestore(createArgs({ resourceModifierConfigmap: Option.some("bad") })))
        )
        assert.strictEqual(
          error.message,
          `invalid --resource-modifier-configmap: resourceModifier: ConfigMap "bad" in namespace ${serverNamespace}: ` +
            "resourceModifierRules[0]: conditions.groupResource is required (e.g. deployments.apps, *.apps, *); " +
            "nothing was created"
        )
        assert.include(error.hint ?? "", `kubectl -n ${serverNamespace} get configmap bad -o yaml`)
        assert.strictEqual((yield* Effect.flip(getRestore(harness)))._tag, "KubeNotFound")
        const missing = yield* cliFailure(
          run(harness, createRestore(createArgs({ resourceModifierConfigmap: Option.some("ghost") })))
        )
        assert.include(missing.message, "ConfigMap \"ghost\" in namespace heptio-ark does not exist")
        yield* run(harness, createRestore(createArgs({ resourceModifierConfigmap: Option.some("good") })))
        assert.deepStrictEqual(
          (yield* getRestore(harness))["spec"],
          {
            backupName: "nightly",
            restorePVs: true,
            existingResourcePolicy: "none",
            resourceModifier: { kind: "ConfigMap", name: "good" }
          }
        )
      })
    ))

  it.effect("an existing name is refused", () =>
    withHarness((harness) =>
      Effect.gen(function*() {
        yield* backupExists(harness)
        yield* run(harness, createRestore(createArgs()))
        const again = yield* cliFailure(run(harness, createRestore(createArgs())))
        assert.strictEqual(again.message, `restore "nightly-restore" already exists in namespace ${serverNamespace}`)
      })
    ))
})

describe("ark restore create --dry-run", () => {
  it.effect("--resource-modifier-configmap: under each object, what the rules change", () =>
    withHarness((harness) =>
      Effect.gen(function*() {
        yield* seedBackup(harness)
        yield* harness.kube.create(configMapsGvr, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "rules", namespace: serverNamespace },
          data: {
            "rules.yaml": "version: v1\nresourceModifierRules:\n" +
              "- conditions: {groupResource: configmaps, resourceNameRegex: '-1$'}\n" +
              "  mergePatches: [{patchData: '{\"data\": {\"value\": \"patched\"}}'}]\n"
          }
        }).pipe(Effect.orDie)
        yield* run(
          harness,
          createRestore(createArgs({
            dryRun: true,
            namespaceMappings: ["shop:shop-copy"],
            resourceModifierConfigmap: Option.some("rules")
          }))
        )
        const out = harness.stdout.join("\n").split("\n")
        const row = out.findIndex((line) => /^ {2}configmaps +shop-copy +config-1$/.test(line))
        assert.isAtLeast(row, 0, out.join("\n"))
        assert.deepStrictEqual(out.slice(row + 1, row + 3), [
          "      changed by resource modifiers:",
          "        data.value: \"b\" → \"patched\""
        ])
        assert.isFalse(out.some((line) => line.includes("config-0") && line.includes("changed")))
      })
    ))

  it.effect("on a partly-present namespace: create, unchanged and conflict (with its diff), a summary; nothing written", () =>
    withHarness((harness) =>
      Effect.gen(function*() {
        yield* seedBackup(harness)
        // After the backup: config-0 is gone, config-1 changed, config-2 untouched.
        yield* harness.kube.delete(configMapsGvr, "config-0", "shop")
        yield* harness.kube.patch(
          configMapsGvr,
          "config-1",
          { type: "merge", body: { data: { value: "changed" } } },
          "shop"
        )
        const putsBefore = harness.storeCalls.length
        yield* run(harness, createRestore(createArgs({ dryRun: true })))

        const out = harness.stdout
        assert.strictEqual(
          out[0],
          "Dry run of restore \"nightly-restore\" from backup \"nightly\": nothing was created or changed."
        )
        const section = (title: string) => {
          const start = out.findIndex((line) => line.startsWith(title))
          assert.isAtLeast(start, 0, `no section "${title}" in:\n${out.join("\n")}`)
          const end = out.findIndex((line, index) => index > start && line === "")
          return out.slice(start, end)
        }
        const row = (lines: ReadonlyArray<string>, name: string) =>
          lines.findIndex((line) => /^ {2}configmaps +shop +/.test(line) && line.includes(name))
        const create = section("Would create")
        assert.isAtLeast(row(create, "config-0"), 0, create.join("\n"))
        const unchanged = section("Unchanged")
        assert.isAtLeast(row(unchanged, "config-2"), 0, unchanged.join("\n"))
        const conflict = section("In conflict")
        const conflictRow = row(conflict, "config-1")
        assert.isAtLeast(conflictRow, 0, conflict.join("\n"))
        // The diff lines sit indented under the object, and name what differs.
        assert.match(conflict[conflictRow + 1] ?? "", /^ {6}\S/)
        assert.include(conflict.slice(conflictRow + 1).join("\n"), "changed")
        assert.match(out.at(-1) ?? "", /^[0-9]+ to create, [0-9]+ unchanged, 1 conflict, [0-9]+ skipped$/)

        // Nothing was written: no Restore, no object, no file.
        assert.strictEqual((yield* Effect.flip(getRestore(harness)))._tag, "KubeNotFound")
        assert.strictEqual(
          (yield* Effect.flip(harness.kube.get(configMapsGvr, "config-0", "shop")))._tag,
          "KubeNotFound"
        )
        assert.strictEqual(harness.storeCalls.length, putsBefore)
      })
    ))

  it.effect("of a missing backup, or one that did not complete, says so", () =>
    withHarness((harness) =>
      Effect.gen(function*() {
        const missing = yield* cliFailure(
          run(harness, createRestore(createArgs({ dryRun: true, fromBackup: Option.some("ghost") })))
        )
        assert.include(missing.message, "backup \"ghost\" not found")
        yield* harness.kube.create(backupsGvr, {
          apiVersion: "ark.heptio.com/v1",
          kind: "Backup",
          metadata: { name: "failed", namespace: serverNamespace },
          spec: {}
        })
        yield* harness.kube.create(locationsGvr, {
          apiVersion: "ark.heptio.com/v1",
          kind: "BackupStorageLocation",
          metadata: { name: "default", namespace: serverNamespace },
          spec: { provider: "aws", objectStorage: { bucket: "ark" } }
        })
        yield* harness.kube.patchStatus(
          backupsGvr,
          "failed",
          { type: "merge", body: { status: { phase: "Failed" } } },
          serverNamespace
        )
        const failed = yield* cliFailure(
          run(harness, createRestore(createArgs({ dryRun: true, fromBackup: Option.some("failed") })))
        )
        assert.include(failed.message, "backup \"failed\" is Failed")
      })
    ))
})

describe("ark restore create --wait", () => {
  it.scopedLive("follows the real restore controller to Completed", () =>
    withHarness((harness) =>
      Effect.gen(function*() {
        yield* seedBackup(harness)
        yield* Layer.build(
          controllers({
            namespace: serverNamespace,
            restoreOnly: true,
            backupConcurrency: 1,
            locationValidationPeriod: "1 hour",
            progressInterval: "20 millis"
          })
        ).pipe(Effect.provide(Layer.merge(
          Layer.succeed(KubeClient, harness.kube),
          Layer.succeed(ObjectStoreProvider, {
            forLocation: () => Effect.succeed(harness.store)
          })
        )))
        yield* run(harness, createRestore(createArgs({ wait: true, namespaceMappings: ["shop:shop-copy"] })))
        assert.strictEqual(harness.stdout[1], "phase New: waiting for the Ark server to start the restore")
        assert.match(
          harness.stdout.at(-1) ?? "",
          /^Restore "nightly-restore" Completed \([1-9][0-9]* created, 0 updated, 0 unchanged, 0 skipped, 0 failed; 0 warnings, 0 errors\)$/
        )
        const copy = yield* harness.kube.get(configMapsGvr, "config-1", "shop-copy")
        assert.strictEqual(copy.metadata.labels?.["ark.heptio.com/restore-name"], "nightly-restore")
      })
    ))

  it.live("exits non-zero when the restore fails validation, listing the problems", () =>
    withHarness((harness) =>
      Effect.gen(function*() {
        yield* backupExists(harness)
        yield* Effect.fork(
          Effect.gen(function*() {
            yield* waitFor("the restore to be created", getRestore(harness).pipe(Effect.option))
            yield* setStatus(harness, { phase: "FailedValidation", validationErrors: ["backup \"nightly\" not found"] })
          })
        )
        const error = yield* cliFailure(run(harness, createRestore(createArgs({ wait: true }))))
        assert.strictEqual(error.message, "restore \"nightly-restore\" ended FailedValidation, not Completed")
        assert.deepStrictEqual(harness.stdout.slice(-2), [
          "Restore \"nightly-restore\" failed validation:",
          "  - backup \"nightly\" not found"
        ])
      })
    ))
})

describe("ark restore get, describe, logs, delete", () => {
  it.effect("get lists restores as a table, and one as JSON", () =>
    withHarness((harness) =>
      Effect.gen(function*() {
        yield* backupExists(harness)
        yield* run(harness, createRestore(createArgs({ selector: Option.some("app=web") })))
        yield* setStatus(harness, {
          phase: "Completed",
          startTimestamp: "2024-05-01T12:00:00Z",
          completionTimestamp: "2024-05-01T12:01:00Z",
          warnings: 2,
          errors: 1
        })
        yield* run(
          harness,
          getRestores({ names: [], selector: Option.none(), namespace: serverNamespace, output: "table" })
        )
        const [header, row] = harness.stdout.slice(-2)
        assert.match(header ?? "", /^NAME +BACKUP +STATUS +STARTED +COMPLETED +ERRORS +WARNINGS +CREATED +SELECTOR$/)
        assert.match(
          row ?? "",
          /^nightly-restore +nightly +Completed +2024-05-01 12:00:00 \+0000 UTC +2024-05-01 12:01:00 \+0000 UTC +1 +2 +.+ +app=web$/
        )
        harness.stdout.length = 0
        yield* run(
          harness,
          getRestores({
            names: ["nightly-restore"],
            selector: Option.none(),
            namespace: serverNamespace,
            output: "json"
          })
        )
        const document = JSON.parse(harness.stdout.join("\n")) as KubeObject
        assert.strictEqual(document.kind, "Restore")
        const missing = yield* cliFailure(
          run(
            harness,
            getRestores({ names: ["nope"], selector: Option.none(), namespace: serverNamespace, output: "table" })
          )
        )
        assert.strictEqual(missing.message, `restore "nope" not found in namespace ${serverNamespace}`)
      })
    ))

  it.effect("describe shows the spec, status and outcomes; --details the results and every item; logs prints the log", () =>
    withHarness((harness) =>
      Effect.gen(function*() {
        yield* seedBackup(harness)
        yield* run(harness, createRestore(createArgs({ namespaceMappings: ["shop:shop-copy"] })))
        yield* setStatus(harness, {
          phase: "PartiallyFailed",
          warnings: 1,
          errors: 1,
          progress: { totalItems: 4, itemsRestored: 3 },
          outcomes: {
            created: 1,
            updated: 0,
            unchanged: 0,
            skipped: 2,
            failed: 1,
            skippedReasons: [{ reason: "owned by a restored Deployment", count: 2 }]
          }
        })
        yield* putObject(
          harness.store,
          "restores/nightly-restore/restore-nightly-restore-items.gz",
          gzip(
            [
              { outcome: "created", resource: "configmaps", namespace: "shop-copy", name: "config-0" },
              {
                outcome: "skipped",
                resource: "replicasets.apps",
                namespace: "shop-copy",
                name: "web-1",
                reason: "owned by a restored Deployment: web"
              },
              {
                outcome: "skipped",
                resource: "replicasets.apps",
                namespace: "shop-copy",
                name: "web-2",
                reason: "owned by a restored Deployment: web"
              },
              { outcome: "failed", resource: "persistentvolumes", name: "pv-1", reason: "no snapshot" }
            ].map((item) => `${JSON.stringify(item)}\n`).join("")
          )
        )
        yield* putObject(
          harness.store,
          "restores/nightly-restore/restore-nightly-restore-results.gz",
          gzip(JSON.stringify({
            warnings: { namespaces: { "shop-copy": ["configmaps shop-copy/config-1: exists and differs"] } },
            errors: { cluster: ["persistentvolumes pv-1: no snapshot"] }
          }))
        )
        yield* putObject(
          harness.store,
          "restores/nightly-restore/restore-nightly-restore-logs.gz",
          gzip("{\"msg\":\"restore started\"}\n{\"msg\":\"done\"}\n")
        )

        yield* run(
          harness,
          describeRestoreCommand({ name: "nightly-restore", namespace: serverNamespace, details: false })
        )
        const plain = harness.stdout.join("\n")
        assert.include(plain, "Phase:  PartiallyFailed")
        assert.include(plain, "Backup:  nightly")
        assert.include(plain, "Namespace mappings:  shop=shop-copy")
        assert.include(plain, "Items restored:  3 of 4")
        assert.include(
          plain,
          "Outcomes:        1 created, 0 updated, 0 unchanged, 2 skipped, 1 failed\n  skipped 2: owned by a restored Deployment"
        )
        assert.include(plain, "Results:  <use --details")

        harness.stdout.length = 0
        yield* run(
          harness,
          describeRestoreCommand({ name: "nightly-restore", namespace: serverNamespace, details: true })
        )
        const detailed = harness.stdout.join("\n")
        assert.include(detailed, "    shop-copy:\n      configmaps shop-copy/config-1: exists and differs")
        assert.include(detailed, "  Cluster:\n    persistentvolumes pv-1: no snapshot")
        assert.include(
          detailed,
          [
            "Items (4):",
            "  Created (1):",
            "    RESOURCE            NAMESPACE   NAME",
            "    configmaps          shop-copy   config-0",
            "",
            "  Skipped (2):",
            "    RESOURCE            NAMESPACE   NAME       REASON",
            "    replicasets.apps    shop-copy   web-1      owned by a restored Deployment: web",
            "    replicasets.apps    shop-copy   web-2      owned by a restored Deployment: web",
            "",
            "  Failed (1):",
            "    RESOURCE            NAMESPACE   NAME       REASON",
            "    persistentvolumes   <cluster>   pv-1       no snapshot"
          ].join("\n")
        )

        harness.stdout.length = 0
        yield* run(harness, restoreLogs({ name: "nightly-restore", namespace: serverNamespace, output: "json" }))
        assert.deepStrictEqual(harness.stdout, ["{\"msg\":\"restore started\"}", "{\"msg\":\"done\"}"])
      })
    ))

  it.effect("delete --confirm removes the restore's files, then the resource; without a terminal it asks for --confirm", () =>
    withHarness((harness) =>
      Effect.gen(function*() {
        yield* seedBackup(harness)
        yield* run(harness, createRestore(createArgs()))
        yield* setStatus(harness, { phase: "Completed" })
        for (const file of ["logs", "results"]) {
          yield* putObject(harness.store, `restores/nightly-restore/restore-nightly-restore-${file}.gz`, gzip("{}"))
        }
        const unconfirmed = yield* cliFailure(
          run(harness, deleteRestore({ name: "nightly-restore", namespace: serverNamespace, confirm: false }))
        )
        assert.include(unconfirmed.hint ?? "", "--confirm")
        harness.storeCalls.length = 0
        yield* run(harness, deleteRestore({ name: "nightly-restore", namespace: serverNamespace, confirm: true }))
        assert.sameMembers(harness.storeCalls, [
          "delete restores/nightly-restore/restore-nightly-restore-logs.gz",
          "delete restores/nightly-restore/restore-nightly-restore-results.gz"
        ])
        assert.strictEqual((yield* Effect.flip(getRestore(harness)))._tag, "KubeNotFound")
        assert.include(harness.stdout.at(-1) ?? "", "Restore \"nightly-restore\" deleted: the resource and 2 files")
        // The backup's own files are untouched.
        const left = yield* harness.store.list("backups/nightly/")
        assert.isAbove(left.objects.length, 0)
      })
    ))
})
