// `ark backup …` and `ark backup-location …` as a user runs them: the real entry point in a child
// process, against the test environment's API server. No Ark server runs here, so backups stay
// New unless the test plays the controller; processing is covered by the server's own tests.
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gzipSync } from "node:zlib"

import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Schema, Stream } from "effect"

import * as ObjectStoreProviderLive from "../../layers/objectstore/Provider.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import { backupNameLabel, BackupStorageLocation } from "../../src/api/index.ts"
import { deleteBackupRequestsGvr } from "../../src/deletion/requests.ts"
import { arkRun } from "../support/arkProcess.ts"
import { waitFor } from "../support/wait.ts"
import { applyCrds, ensureNamespace, namespaceGvr } from "./crdsApply.ts"
import { liveKube } from "./live.ts"

const backupsGvr = { group: "ark.heptio.com", version: "v1", resource: "backups" }
const locationsGvr = { group: "ark.heptio.com", version: "v1", resource: "backupstoragelocations" }

/** `ark ARGS --namespace <namespace> --kubeconfig $KUBECONFIG`, run to its end without blocking the test's fibers. */
const arkIn = (namespace: string) => (...args: ReadonlyArray<string>) =>
  arkRun(...args, "--namespace", namespace, "--kubeconfig", process.env["KUBECONFIG"] ?? "")

/** Each test gets its own server namespace: a deleted one stays Terminating for a while. */
const inNamespace = <A, E>(suffix: string, body: (namespace: string) => Effect.Effect<A, E, KubeClient>) => {
  const namespace = `ark-cli-${process.pid}-${suffix}`
  return Effect.gen(function*() {
    yield* applyCrds
    yield* ensureNamespace(namespace)
    return yield* body(namespace)
  }).pipe(
    Effect.ensuring(KubeClient.pipe(Effect.flatMap((kube) => kube.delete(namespaceGvr, namespace)), Effect.ignore)),
    Effect.provide(liveKube())
  )
}

describe("ark backup on a real API server", () => {
  it.live(
    "create submits the Backup; get lists it; errors are one line and a hint",
    () =>
      inNamespace("get", (namespace) =>
        Effect.gen(function*() {
          const ark = arkIn(namespace)
          const kube = yield* KubeClient

          const created = yield* ark(
            "backup",
            "create",
            "nightly",
            "--include-namespaces",
            "shop,blog",
            "--exclude-resources",
            "secrets",
            "--selector",
            "app=web",
            "--include-cluster-resources",
            "false",
            "--ttl",
            "24h"
          )
          assert.strictEqual(created.status, 0, created.stderr)
          assert.include(created.stdout, "Backup request \"nightly\" submitted successfully.")

          const stored = yield* kube.get(backupsGvr, "nightly", namespace)
          assert.deepStrictEqual(stored["spec"], {
            includedNamespaces: ["shop", "blog"],
            includedResources: ["*"],
            excludedResources: ["secrets"],
            labelSelector: { matchLabels: { app: "web" } },
            includeClusterResources: false,
            snapshotVolumes: true,
            ttl: "24h",
            storageLocation: "default"
          })
          assert.isUndefined(stored["status"], "no server runs: the backup stays New")

          const table = yield* ark("backup", "get")
          assert.strictEqual(table.status, 0, table.stderr)
          const [header, row] = table.stdout.trimEnd().split("\n")
          assert.match(header ?? "", /^NAME\s+STATUS\s+CREATED\s+EXPIRES\s+STORAGE LOCATION\s+SELECTOR$/)
          assert.match(
            row ?? "",
            /^nightly\s+New\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000 UTC\s+23h\s+default\s+app=web$/
          )

          const json = yield* ark("backup", "get", "nightly", "-o", "json")
          assert.strictEqual(json.status, 0, json.stderr)
          const object = JSON.parse(json.stdout) as { kind: string; metadata: { uid?: string } }
          assert.strictEqual(object.kind, "Backup")
          assert.isString(object.metadata.uid)

          const missing = yield* ark("backup", "describe", "x")
          assert.notStrictEqual(missing.status, 0)
          assert.strictEqual(
            missing.stderr,
            `error: backup "x" not found in namespace ${namespace}\nhint: ark backup get -n ${namespace} lists them\n`
          )

          const duplicate = yield* ark("backup", "create", "nightly")
          assert.notStrictEqual(duplicate.status, 0)
          assert.include(duplicate.stderr, `error: backup "nightly" already exists in namespace ${namespace}`)

          const badSelector = yield* ark("backup", "create", "other", "--selector", "app in (web")
          assert.notStrictEqual(badSelector.status, 0)
          assert.include(badSelector.stderr, "error: invalid --selector \"app in (web\"")
          assert.isTrue(Option.isNone(yield* kube.get(backupsGvr, "other", namespace).pipe(Effect.option)))
        })),
    // Six `ark` processes in a row, each seconds (far more on a loaded machine).
    300_000
  )

  it.live(
    "create --wait follows a real watch until the phase, and fails when the backup does",
    () =>
      inNamespace("wait", (namespace) =>
        Effect.gen(function*() {
          const ark = arkIn(namespace)
          const kube = yield* KubeClient
          // The test plays the backup controller: status writes through the real status subresource.
          const controller = (name: string, finalPhase: string) =>
            Effect.gen(function*() {
              yield* waitFor(`backup ${name}`, kube.get(backupsGvr, name, namespace).pipe(Effect.option))
              for (const [done, phase] of [[0, "InProgress"], [5, "InProgress"], [10, finalPhase]] as const) {
                yield* kube.patchStatus(backupsGvr, name, {
                  type: "merge",
                  body: { status: { phase, progress: { totalItems: 10, itemsBackedUp: done } } }
                }, namespace)
              }
            })

          const [completed] = yield* Effect.all([
            ark("backup", "create", "waited", "--wait"),
            controller("waited", "Completed")
          ], {
            concurrency: 2
          })
          assert.strictEqual(completed.status, 0, completed.stderr)
          assert.include(
            completed.stdout,
            "items backed up: 0/10\nitems backed up: 5/10\nphase Completed: 10 items backed up"
          )
          assert.include(completed.stdout, "Backup \"waited\" Completed (10 items, 0 warnings, 0 errors)")

          const [failed] = yield* Effect.all([
            ark("backup", "create", "broken", "--wait"),
            controller("broken", "Failed")
          ], {
            concurrency: 2
          })
          assert.notStrictEqual(failed.status, 0)
          assert.include(failed.stderr, "error: backup \"broken\" ended Failed, not Completed")
        })),
    300_000
  )

  it.live(
    "backup-location create and get",
    () =>
      inNamespace("bsl", (namespace) =>
        Effect.gen(function*() {
          const ark = arkIn(namespace)
          const created = yield* ark(
            "backup-location",
            "create",
            "minio",
            "--provider",
            "aws",
            "--bucket",
            "ark-test",
            "--prefix",
            "cluster-a",
            "--config",
            "region=us-east-1",
            "--config",
            "s3ForcePathStyle=true"
          )
          assert.strictEqual(created.status, 0, created.stderr)
          const table = yield* ark("backup-location", "get")
          assert.strictEqual(table.status, 0, table.stderr)
          assert.match(table.stdout, /^minio\s+aws\s+ark-test\/cluster-a\s+Unknown\s+<never>\s+ReadWrite$/m)
          const yaml = yield* ark("backup-location", "get", "minio", "-o", "yaml")
          assert.include(yaml.stdout, "  config:\n    region: us-east-1\n    s3ForcePathStyle: \"true\"")
        })),
    300_000
  )

  it.live(
    "logs, download and delete go through the live ObjectStoreProvider to MinIO",
    () =>
      inNamespace("files", (namespace) =>
        Effect.gen(function*() {
          const ark = arkIn(namespace)
          const kube = yield* KubeClient
          const s3Url = process.env["ARK_TEST_S3_URL"] ?? ""
          const bucket = process.env["ARK_TEST_S3_BUCKET"] ?? ""
          const prefix = `cli-${process.pid}`
          const created = yield* ark(
            "backup-location",
            "create",
            "default",
            "--provider",
            "aws",
            "--bucket",
            bucket,
            "--prefix",
            prefix,
            // The README's form: one --config, settings separated by commas.
            "--config",
            `region=us-east-1,s3Url=${s3Url},s3ForcePathStyle=true`
          )
          assert.strictEqual(created.status, 0, created.stderr)
          assert.strictEqual((yield* ark("backup", "create", "stored")).status, 0)
          yield* kube.patchStatus(
            backupsGvr,
            "stored",
            { type: "merge", body: { status: { phase: "Completed" } } },
            namespace
          )

          // The files a finished backup leaves, written through the same provider the CLI uses.
          const location = yield* Schema.decodeUnknown(BackupStorageLocation)(
            yield* kube.get(locationsGvr, "default", namespace)
          )
          const store = yield* (yield* ObjectStoreProvider).forLocation(location)
          const files: ReadonlyArray<readonly [string, Uint8Array]> = [
            ["backups/stored/stored.tar.gz", new Uint8Array([31, 139, 8, 0, 1, 2, 3])],
            ["backups/stored/stored-logs.gz", new Uint8Array(gzipSync("{\"msg\":\"one\"}\n{\"msg\":\"two\"}\n"))],
            ["backups/stored/ark-backup.json", new TextEncoder().encode("{}")]
          ]
          for (const [key, bytes] of files) yield* store.put(key, Stream.make(bytes))

          const logs = yield* ark("backup", "logs", "stored", "-o", "json")
          assert.strictEqual(logs.status, 0, logs.stderr)
          assert.strictEqual(logs.stdout, "{\"msg\":\"one\"}\n{\"msg\":\"two\"}\n")

          const target = join(mkdtempSync(join(tmpdir(), "ark-cli-")), "stored.tar.gz")
          const download = yield* ark("backup", "download", "stored", "-o", target)
          assert.strictEqual(download.status, 0, download.stderr)
          assert.deepStrictEqual(new Uint8Array(readFileSync(target)), files[0]?.[1])

          const refused = yield* ark("backup", "delete", "stored")
          assert.notStrictEqual(refused.status, 0)
          assert.include(refused.stderr, "hint: pass --confirm")
          const deleted = yield* ark("backup", "delete", "stored", "--confirm")
          assert.strictEqual(deleted.status, 0, deleted.stderr)
          assert.include(deleted.stdout, "Request to delete backup \"stored\" submitted successfully")
          // The server deletes; none runs here, so the labelled request waits and everything is still there.
          const pages = yield* Stream.runCollect(
            kube.listPages(deleteBackupRequestsGvr, { namespace, labelSelector: `${backupNameLabel}=stored` })
          )
          const requests = [...pages].flatMap((page) => page.items)
          assert.lengthOf(requests, 1)
          assert.deepStrictEqual(requests[0]?.["spec"], { backupName: "stored" })
          assert.match(requests[0]?.metadata.name ?? "", /^stored-[a-z0-9]{5}$/)
          assert.include(deleted.stdout, requests[0]?.metadata.name ?? "")
          assert.lengthOf((yield* store.list("backups/stored/")).objects, 3)
          assert.isTrue(Option.isSome(yield* kube.get(backupsGvr, "stored", namespace).pipe(Effect.option)))
        }).pipe(Effect.provide(ObjectStoreProviderLive.layer))),
    // Seven `ark` processes in a row.
    300_000
  )
})
