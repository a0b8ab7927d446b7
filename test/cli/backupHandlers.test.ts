// The backup and backup-location handlers on the in-memory API server and object store.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as zlib from "node:zlib"

import { assert, describe, it } from "@effect/vitest"
import { generateX25519Identity, identityToRecipient } from "age-encryption"
import { Effect, Fiber, Option, Stream, TestClock } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { runBackup } from "../../src/backup/run.ts"
import type { CreateArgs } from "../../src/cli/backup/create.ts"
import { createBackup } from "../../src/cli/backup/create.ts"
import { deleteBackup, deleteBackups } from "../../src/cli/backup/delete.ts"
import { backupLogs, downloadBackup } from "../../src/cli/backup/files.ts"
import { createBackupLocation, getBackupLocations } from "../../src/cli/backup/location.ts"
import { describeBackupCommand, getBackups } from "../../src/cli/backup/read.ts"
import { noBackupFlags } from "../../src/cli/backup/spec.ts"
import { verifyBackups } from "../../src/cli/backup/verify.ts"
import { restoresGvr } from "../../src/cli/restore/kube.ts"
import { deleteBackupRequestsGvr } from "../../src/deletion/requests.ts"
import { encrypting } from "../../src/integrity/age.ts"
import { configMap, makeBackup } from "../backup/fixtures.ts"
import { waitFor } from "../support/wait.ts"
import type { Harness, HarnessOptions } from "./harness.ts"
import {
  backupsGvr,
  cliFailure,
  gzip,
  locationsGvr,
  makeHarness,
  putObject,
  run,
  schedulesGvr,
  serverNamespace
} from "./harness.ts"

const createArgs = (overrides: Partial<CreateArgs> = {}): CreateArgs => ({
  ...noBackupFlags,
  labels: [],
  annotations: [],
  name: "nightly",
  namespace: serverNamespace,
  fromSchedule: Option.none(),
  wait: false,
  ...overrides
})

const location = (name: string, accessMode: "ReadWrite" | "ReadOnly" = "ReadWrite"): KubeObject => ({
  apiVersion: "ark.heptio.com/v1",
  kind: "BackupStorageLocation",
  metadata: { name, namespace: serverNamespace },
  spec: { provider: "aws", objectStorage: { bucket: "ark" }, accessMode }
})

/** What the user wrote, without what the API server adds to metadata. */
const submitted = (object: KubeObject): Record<string, unknown> => ({
  ...object,
  metadata: {
    name: object.metadata.name,
    namespace: object.metadata.namespace,
    ...(object.metadata.labels === undefined ? {} : { labels: object.metadata.labels })
  }
})

const withHarness = <A, E>(options: HarnessOptions, body: (harness: Harness) => Effect.Effect<A, E>) =>
  makeHarness(options).pipe(Effect.flatMap((harness) => body(harness)))

const getBackup = (harness: Harness, name = "nightly") => harness.kube.get(backupsGvr, name, serverNamespace)

const setStatus = (harness: Harness, status: Record<string, unknown>, name = "nightly") =>
  harness.kube.patchStatus(backupsGvr, name, { type: "merge", body: { status } }, serverNamespace)

describe("ark backup create", () => {
  it.effect("submits exactly the Backup the flags describe", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* harness.kube.create(locationsGvr, location("minio"))
        yield* run(
          harness,
          createBackup(createArgs({
            includeNamespaces: ["shop", "blog"],
            excludeResources: ["secrets"],
            selector: Option.some("app=web,tier!=cache"),
            includeClusterResources: Option.some(true),
            snapshotVolumes: Option.some(false),
            ttl: Option.some("24h"),
            storageLocation: Option.some("minio")
          }))
        )
        assert.deepStrictEqual(submitted(yield* getBackup(harness)), {
          apiVersion: "ark.heptio.com/v1",
          kind: "Backup",
          metadata: { name: "nightly", namespace: serverNamespace },
          spec: {
            includedNamespaces: ["shop", "blog"],
            includedResources: ["*"],
            excludedResources: ["secrets"],
            labelSelector: {
              matchLabels: { app: "web" },
              matchExpressions: [{ key: "tier", operator: "NotIn", values: ["cache"] }]
            },
            includeClusterResources: true,
            snapshotVolumes: false,
            ttl: "24h",
            storageLocation: "minio"
          }
        })
        assert.strictEqual(harness.stdout[0], "Backup request \"nightly\" submitted successfully.")
      })))

  it.effect("without flags writes the defaults out", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* run(harness, createBackup(createArgs()))
        assert.deepStrictEqual((yield* getBackup(harness))["spec"], {
          includedNamespaces: ["*"],
          includedResources: ["*"],
          snapshotVolumes: true,
          ttl: "720h",
          storageLocation: "default"
        })
      })))

  it.effect("a bad --ttl is one line with a hint, and nothing is created", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const error = yield* cliFailure(run(harness, createBackup(createArgs({ ttl: Option.some("2 days") }))))
        assert.strictEqual(error.message, "invalid --ttl \"2 days\": expected a Go duration such as 72h, 30m or 1h30m")
        assert.isDefined(error.hint)
        const missing = yield* Effect.flip(getBackup(harness))
        assert.strictEqual(missing._tag, "KubeNotFound")
      })))

  it.effect("an unknown --storage-location, an existing name", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const unknown = yield* cliFailure(
          run(harness, createBackup(createArgs({ storageLocation: Option.some("nowhere") })))
        )
        assert.strictEqual(
          unknown.message,
          `--storage-location nowhere: backup storage location "nowhere" not found in namespace ${serverNamespace}`
        )
        assert.strictEqual(unknown.hint, "ark backup-location get lists them")
        yield* run(harness, createBackup(createArgs()))
        const again = yield* cliFailure(run(harness, createBackup(createArgs())))
        assert.strictEqual(again.message, `backup "nightly" already exists in namespace ${serverNamespace}`)
      })))

  it.effect("a missing server namespace points at installing Ark", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const error = yield* cliFailure(run(harness, createBackup(createArgs({ namespace: "velero" }))))
        assert.include(error.message, "cannot create backup \"nightly\"")
        assert.include(error.hint ?? "", "is Ark installed in namespace velero?")
      })))

  it.effect("--from-schedule copies the template, labels the backup, and refuses spec flags", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const template = {
          includedNamespaces: ["shop"],
          includedResources: ["*"],
          snapshotVolumes: true,
          ttl: "72h",
          storageLocation: "default"
        }
        yield* harness.kube.create(schedulesGvr, {
          apiVersion: "ark.heptio.com/v1",
          kind: "Schedule",
          metadata: { name: "daily", namespace: serverNamespace },
          spec: { schedule: "@daily", template }
        })
        const mixed = yield* cliFailure(
          run(harness, createBackup(createArgs({ fromSchedule: Option.some("daily"), ttl: Option.some("1h") })))
        )
        assert.include(mixed.message, "cannot be combined with --ttl")
        const unknown = yield* cliFailure(
          run(harness, createBackup(createArgs({ fromSchedule: Option.some("weekly") })))
        )
        assert.strictEqual(unknown.message, `schedule "weekly" not found in namespace ${serverNamespace}`)
        yield* run(harness, createBackup(createArgs({ fromSchedule: Option.some("daily") })))
        const created = yield* getBackup(harness)
        assert.deepStrictEqual(created["spec"], template)
        assert.deepStrictEqual(created.metadata.labels, {
          "ark.heptio.com/schedule-name": "daily",
          "ark-schedule": "daily"
        })
      })))
})

/** A stand-in for the backup controller: moves the backup through these statuses once it exists. */
const controller = (harness: Harness, statuses: ReadonlyArray<Record<string, unknown>>) =>
  Effect.gen(function*() {
    yield* waitFor("the backup to be created", getBackup(harness).pipe(Effect.option))
    for (const status of statuses) yield* setStatus(harness, status)
  })

describe("ark backup create --wait", () => {
  it.live("follows progress line by line and ends with the phase", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const server = yield* Effect.fork(controller(harness, [
          { phase: "InProgress", progress: { totalItems: 3, itemsBackedUp: 0 } },
          { phase: "InProgress", progress: { totalItems: 3, itemsBackedUp: 2 } },
          { phase: "InProgress", progress: { totalItems: 3, itemsBackedUp: 3 } },
          { phase: "Completed", progress: { totalItems: 3, itemsBackedUp: 3 }, warnings: 0, errors: 0 }
        ]))
        yield* run(harness, createBackup(createArgs({ wait: true })))
        yield* Fiber.join(server)
        assert.deepStrictEqual(harness.stdout.slice(1), [
          "phase New: waiting for the Ark server to start the backup",
          "items backed up: 0/3",
          "items backed up: 2/3",
          "items backed up: 3/3",
          "phase Completed: 3 items backed up",
          "Backup \"nightly\" Completed (3 items, 0 warnings, 0 errors)"
        ])
      })))

  it.live("exits non-zero when the backup fails", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* Effect.fork(controller(harness, [
          { phase: "InProgress", progress: { totalItems: 10, itemsBackedUp: 4 } },
          {
            phase: "Failed",
            failureReason: "object storage unreachable",
            progress: { totalItems: 10, itemsBackedUp: 4 }
          }
        ]))
        const error = yield* cliFailure(run(harness, createBackup(createArgs({ wait: true }))))
        assert.strictEqual(error.message, "backup \"nightly\" ended Failed, not Completed")
        assert.include(
          harness.stdout,
          "Backup \"nightly\" Failed: object storage unreachable (4 items, 0 warnings, 0 errors)"
        )
      })))

  it.live("on a terminal, rewrites one progress line in place", () =>
    withHarness({ tty: true }, (harness) =>
      Effect.gen(function*() {
        yield* Effect.fork(controller(harness, [
          { phase: "InProgress", progress: { totalItems: 2, itemsBackedUp: 1 } },
          { phase: "Completed", progress: { totalItems: 2, itemsBackedUp: 2 } }
        ]))
        yield* run(harness, createBackup(createArgs({ wait: true })))
        assert.deepStrictEqual(harness.displayed, [
          "\r\u001b[2Kphase New: waiting for the Ark server to start the backup",
          "\r\u001b[2Kitems backed up: 1/2",
          "\r\u001b[2Kphase Completed: 2 items backed up",
          "\n"
        ])
        assert.strictEqual(harness.stdout.at(-1), "Backup \"nightly\" Completed (2 items, 0 warnings, 0 errors)")
      })))

  it.live("a FailedValidation backup lists every problem", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* Effect.fork(controller(harness, [
          { phase: "FailedValidation", validationErrors: ["unknown resource \"widgets\"", "invalid ttl"] }
        ]))
        yield* Effect.flip(run(harness, createBackup(createArgs({ wait: true }))))
        assert.deepStrictEqual(harness.stdout.slice(-3), [
          "Backup \"nightly\" failed validation:",
          "  - unknown resource \"widgets\"",
          "  - invalid ttl"
        ])
      })))
})

describe("ark backup get and describe", () => {
  it.effect("lists backups as a table, and one as YAML or JSON", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* run(harness, createBackup(createArgs({ name: "b-two", selector: Option.some("app=web") })))
        yield* run(harness, createBackup(createArgs({ name: "a-one" })))
        yield* setStatus(harness, { phase: "Completed" }, "a-one")
        harness.stdout.length = 0
        yield* run(
          harness,
          getBackups({ names: [], selector: Option.none(), namespace: serverNamespace, output: "table" })
        )
        assert.match(harness.stdout[0] ?? "", /^NAME\s+STATUS\s+CREATED\s+EXPIRES\s+STORAGE LOCATION\s+SELECTOR$/)
        assert.match(harness.stdout[1] ?? "", /^a-one\s+Completed\s+\S+ \S+ \+0000 UTC\s+\S+\s+default\s+<none>$/)
        assert.match(harness.stdout[2] ?? "", /^b-two\s+New\s+.*\s+default\s+app=web$/)

        harness.stdout.length = 0
        yield* run(
          harness,
          getBackups({ names: ["a-one"], selector: Option.none(), namespace: serverNamespace, output: "yaml" })
        )
        assert.strictEqual(harness.stdout[0], "apiVersion: ark.heptio.com/v1")
        assert.include(harness.stdout, "kind: Backup")
        assert.include(harness.stdout, "  phase: Completed")

        harness.stdout.length = 0
        yield* run(
          harness,
          getBackups({ names: [], selector: Option.none(), namespace: serverNamespace, output: "json" })
        )
        const list = JSON.parse(harness.stdout.join("\n")) as {
          kind: string
          items: Array<{ metadata: { name: string } }>
        }
        assert.strictEqual(list.kind, "List")
        assert.deepStrictEqual(list.items.map((item) => item.metadata.name), ["a-one", "b-two"])
      })))

  it.effect("an unknown backup is one line and a hint", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const error = yield* cliFailure(
          run(
            harness,
            getBackups({ names: ["x"], selector: Option.none(), namespace: serverNamespace, output: "table" })
          )
        )
        assert.strictEqual(error.message, "backup \"x\" not found in namespace heptio-ark")
        assert.strictEqual(error.hint, "ark backup get lists them")
        const empty = yield* makeHarness()
        yield* run(
          empty,
          getBackups({ names: [], selector: Option.none(), namespace: serverNamespace, output: "table" })
        )
        assert.deepStrictEqual(empty.stdout, ["No backups found in namespace heptio-ark."])
      })))

  it.effect("describe --details reads the resource list from the backup's location", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* harness.kube.create(locationsGvr, location("default"))
        yield* run(harness, createBackup(createArgs()))
        yield* setStatus(harness, {
          phase: "Completed",
          resourceVersion: "42",
          consistency: "Exact",
          progress: { totalItems: 1, itemsBackedUp: 1 }
        })
        yield* putObject(
          harness.store,
          "backups/nightly/nightly-resource-list.json.gz",
          gzip(JSON.stringify({ "v1/ConfigMap": ["shop/settings"] }))
        )
        harness.stdout.length = 0
        yield* run(
          harness,
          describeBackupCommand({
            name: "nightly",
            namespace: serverNamespace,
            details: true,
            identityFile: Option.none()
          })
        )
        const text = harness.stdout.join("\n")
        assert.include(text, "Phase:  Completed")
        assert.include(text, "Resource version:  42 (consistency: Exact)")
        assert.include(text, "Resource List:\n  v1/ConfigMap:\n    - shop/settings")
        assert.deepStrictEqual(harness.openedLocations, ["default"])

        harness.stdout.length = 0
        yield* run(
          harness,
          describeBackupCommand({
            name: "nightly",
            namespace: serverNamespace,
            details: false,
            identityFile: Option.none()
          })
        )
        assert.include(harness.stdout.join("\n"), "Resource List:  <use --details")
        assert.deepStrictEqual(harness.openedLocations, ["default"], "no storage access without --details")
      })))
})

describe("ark backup logs and download", () => {
  it.effect("logs prints backups/<name>/<name>-logs.gz as text, or its JSON lines unchanged with -o json", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* harness.kube.create(locationsGvr, location("default"))
        yield* run(harness, createBackup(createArgs()))
        const lines = [
          "{\"time\":\"2026-12-03T13:00:00.000Z\",\"level\":\"info\",\"msg\":\"backing up\",\"backup\":\"nightly\"}",
          "{\"time\":\"2026-12-03T13:00:01.000Z\",\"level\":\"warning\",\"msg\":\"list failed: no\",\"backup\":\"nightly\",\"resource\":\"pods\",\"namespace\":\"web\"}"
        ]
        yield* putObject(harness.store, "backups/nightly/nightly-logs.gz", gzip(`${lines.join("\n")}\n`))
        harness.stdout.length = 0
        yield* run(
          harness,
          backupLogs({ name: "nightly", namespace: serverNamespace, output: "text", identityFile: Option.none() })
        )
        assert.deepStrictEqual(harness.stdout, [
          "2026-12-03T13:00:00.000Z info    backing up",
          "2026-12-03T13:00:01.000Z warning list failed: no  resource=pods namespace=web"
        ])
        harness.stdout.length = 0
        yield* run(
          harness,
          backupLogs({ name: "nightly", namespace: serverNamespace, output: "json", identityFile: Option.none() })
        )
        assert.deepStrictEqual(harness.stdout, lines)
      })))

  it.effect("logs of a backup that has not uploaded them yet says why", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* harness.kube.create(locationsGvr, location("default"))
        yield* run(harness, createBackup(createArgs()))
        const error = yield* cliFailure(
          run(
            harness,
            backupLogs({ name: "nightly", namespace: serverNamespace, output: "text", identityFile: Option.none() })
          )
        )
        assert.strictEqual(error.message, "backup \"nightly\" has no logs in storage location \"default\"")
        assert.include(error.hint ?? "", "its phase is New")
      })))

  it.effect("download streams the tarball to ./NAME-data.tar.gz or -o; an existing file only with --force", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const dir = mkdtempSync(join(tmpdir(), "ark-cli-"))
        yield* harness.kube.create(locationsGvr, location("default"))
        yield* run(harness, createBackup(createArgs()))
        const tarball = new Uint8Array(200_000).map((_, index) => index % 251)
        yield* putObject(harness.store, "backups/nightly/nightly.tar.gz", tarball)
        const target = join(dir, "out.tar.gz")
        yield* run(
          harness,
          downloadBackup({
            name: "nightly",
            namespace: serverNamespace,
            output: Option.some(target),
            force: false,
            identityFile: Option.none()
          })
        )
        assert.deepStrictEqual(new Uint8Array(readFileSync(target)), tarball)
        assert.include(harness.stdout, `Backup nightly has been successfully downloaded to ${target}`)
        const again = yield* cliFailure(
          run(
            harness,
            downloadBackup({
              name: "nightly",
              namespace: serverNamespace,
              output: Option.some(target),
              force: false,
              identityFile: Option.none()
            })
          )
        )
        assert.strictEqual(again.message, `${target} already exists; it was left as it is`)
        assert.include(again.hint ?? "", "--force")
        writeFileSync(target, "an older download")
        yield* cliFailure(
          run(
            harness,
            downloadBackup({
              name: "nightly",
              namespace: serverNamespace,
              output: Option.some(target),
              force: false,
              identityFile: Option.none()
            })
          )
        )
        assert.strictEqual(readFileSync(target, "utf8"), "an older download", "refused: the file is not touched")
        yield* run(
          harness,
          downloadBackup({
            name: "nightly",
            namespace: serverNamespace,
            output: Option.some(target),
            force: true,
            identityFile: Option.none()
          })
        )
        assert.deepStrictEqual(new Uint8Array(readFileSync(target)), tarball, "--force overwrites it")

        const cwd = process.cwd()
        process.chdir(dir)
        const byDefault = yield* run(
          harness,
          downloadBackup({
            name: "nightly",
            namespace: serverNamespace,
            output: Option.none(),
            force: false,
            identityFile: Option.none()
          })
        ).pipe(
          Effect.ensuring(Effect.sync(() => process.chdir(cwd)))
        )
        assert.isUndefined(byDefault)
        assert.isTrue(existsSync(join(dir, "nightly-data.tar.gz")))
      })))

  it.effect("a failed download leaves no file behind", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const dir = mkdtempSync(join(tmpdir(), "ark-cli-"))
        yield* harness.kube.create(locationsGvr, location("default"))
        yield* run(harness, createBackup(createArgs()))
        const target = join(dir, "missing.tar.gz")
        const error = yield* cliFailure(
          run(
            harness,
            downloadBackup({
              name: "nightly",
              namespace: serverNamespace,
              output: Option.some(target),
              force: false,
              identityFile: Option.none()
            })
          )
        )
        assert.strictEqual(error.message, "backup \"nightly\" has no tarball in storage location \"default\"")
        assert.isFalse(existsSync(target))
        assert.isFalse(existsSync(`${target}.partial`))
      })))
})

describe("ark backup logs and download of an encrypted backup", () => {
  const sealedBackup = (harness: Harness) =>
    Effect.gen(function*() {
      const key = yield* Effect.promise(async () => {
        const identity = await generateX25519Identity()
        return { identity, recipient: await identityToRecipient(identity) }
      })
      yield* harness.kube.create(locationsGvr, location("default"))
      yield* run(harness, createBackup(createArgs()))
      yield* setStatus(harness, { phase: "Completed", encryption: "age" })
      const seal = (bytes: Uint8Array) =>
        Stream.runCollect(encrypting([key.recipient], Stream.make(bytes))).pipe(
          Effect.map((chunks) => new Uint8Array(Buffer.concat([...chunks])))
        )
      const line = "{\"time\":\"2026-12-03T13:00:00.000Z\",\"level\":\"info\",\"msg\":\"backing up\"}"
      yield* putObject(harness.store, "backups/nightly/nightly-logs.gz", yield* seal(gzip(`${line}\n`)))
      const tarball = new Uint8Array(100_000).map((_, index) => index % 251)
      const sealed = yield* seal(tarball)
      yield* putObject(harness.store, "backups/nightly/nightly.tar.gz", sealed)
      const dir = mkdtempSync(join(tmpdir(), "ark-cli-age-"))
      const identityFile = join(dir, "key.txt")
      writeFileSync(identityFile, `# created by age-keygen\n${key.identity}\n`)
      return { dir, identityFile, tarball, sealed }
    })

  it.effect("logs need the identity: without one, the reason and --identity-file; with it, the lines", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const { dir, identityFile } = yield* sealedBackup(harness)
        const logs = (file: Option.Option<string>) =>
          run(harness, backupLogs({ name: "nightly", namespace: serverNamespace, output: "text", identityFile: file }))
        const error = yield* cliFailure(logs(Option.none()))
        assert.strictEqual(
          error.message,
          `backup "nightly" is encrypted with age: backup storage location "default" names no identity Secret (spec.encryption.identitySecret)`
        )
        assert.include(error.hint ?? "", "--identity-file")
        const notKeys = join(dir, "not-keys.txt")
        writeFileSync(notKeys, "AGE-SECRET-KEY-1SOMETHINGELSE\n")
        const bad = yield* cliFailure(logs(Option.some(notKeys)))
        assert.strictEqual(bad.message, `${notKeys}: line 1 is not an age X25519 identity (AGE-SECRET-KEY-1...)`)
        const otherKey = join(dir, "other.txt")
        writeFileSync(otherKey, `${yield* Effect.promise(() => generateX25519Identity())}\n`)
        const wrong = yield* cliFailure(logs(Option.some(otherKey)))
        assert.include(wrong.message, "none of the identity's keys is a recipient of this file", wrong.message)
        harness.stdout.length = 0
        yield* logs(Option.some(identityFile))
        assert.deepStrictEqual(harness.stdout, ["2026-12-03T13:00:00.000Z info    backing up"])
      })))

  it.effect("download saves the age file as stored without an identity, the tarball with --identity-file", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const { dir, identityFile, sealed, tarball } = yield* sealedBackup(harness)
        const download = (target: string, file: Option.Option<string>) =>
          run(
            harness,
            downloadBackup({
              name: "nightly",
              namespace: serverNamespace,
              output: Option.some(target),
              force: false,
              identityFile: file
            })
          )
        yield* download(join(dir, "nightly.tar.gz.age"), Option.none())
        assert.deepStrictEqual(new Uint8Array(readFileSync(join(dir, "nightly.tar.gz.age"))), sealed)
        assert.isTrue(harness.stdout.some((line) => line.includes("age -d -i IDENTITY_FILE")))
        yield* download(join(dir, "nightly.tar.gz"), Option.some(identityFile))
        assert.deepStrictEqual(new Uint8Array(readFileSync(join(dir, "nightly.tar.gz"))), tarball)
      })))
})

describe("ark backup verify of an encrypted backup", () => {
  const newKeyFile = (dir: string, file: string) =>
    Effect.promise(async () => {
      const identity = await generateX25519Identity()
      writeFileSync(join(dir, file), `# created by age-keygen\n${identity}\n`)
      return { file: join(dir, file), identity, recipient: await identityToRecipient(identity) }
    })

  /** Backups "old" (for key1) and "new" (for key2) of namespace app, committed as the server would. */
  const sealedBackups = (harness: Harness) =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "ark-cli-verify-"))
      const [key1, key2] = [yield* newKeyFile(dir, "key1.txt"), yield* newKeyFile(dir, "key2.txt")]
      yield* harness.control.seed([
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "app" } },
        configMap("app", "settings"),
        configMap("app", "other")
      ])
      yield* harness.kube.create(locationsGvr, location("default"))
      for (const [name, key] of [["old", key1], ["new", key2]] as const) {
        const backup = makeBackup({ includedNamespaces: ["app"] }, name)
        const done = yield* runBackup(backup, { storageLocations: ["default"], recipients: [key.recipient] }).pipe(
          Effect.provideService(KubeClient, harness.kube),
          Effect.provideService(ObjectStore, harness.store)
        )
        assert.strictEqual(done.status?.encryption, "age")
        yield* harness.kube.create(backupsGvr, { ...backup, metadata: { name, namespace: serverNamespace } })
        yield* setStatus(harness, done.status ?? {}, name)
      }
      harness.stdout.length = 0
      return { dir, key1, key2 }
    })

  const verify = (harness: Harness, name: Option.Option<string>, identityFile: Option.Option<string>) =>
    run(harness, verifyBackups({ name, all: Option.isNone(name), namespace: serverNamespace, identityFile }))

  it.effect("with the identity every entry is parsed and counted; without one, only digests, and it says so", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const { key1 } = yield* sealedBackups(harness)
        yield* verify(harness, Option.some("old"), Option.some(key1.file))
        assert.deepStrictEqual(harness.stdout, ["old: verified, 5 files and 3 items intact"])
        harness.stdout.length = 0
        yield* verify(harness, Option.some("old"), Option.none())
        assert.deepStrictEqual(harness.stdout, [
          "old: verified, 5 files intact (encrypted: their digests, not the tarball's entries)",
          `  not decrypted: backup storage location "default" names no identity Secret (spec.encryption.identitySecret); pass --identity-file FILE to check the entries too`
        ])
      })))

  it.effect("without --identity-file the location's identity Secret is used", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const { key2 } = yield* sealedBackups(harness)
        yield* harness.kube.create({ group: "", version: "v1", resource: "secrets" }, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "age-identity", namespace: serverNamespace },
          data: { identity: Buffer.from(`${key2.identity}\n`).toString("base64") }
        })
        yield* harness.kube.patch(locationsGvr, "default", {
          type: "merge",
          body: { spec: { encryption: { identitySecret: { name: "age-identity", key: "identity" } } } }
        }, serverNamespace)
        yield* verify(harness, Option.some("new"), Option.none())
        assert.deepStrictEqual(harness.stdout, ["new: verified, 5 files and 3 items intact"])
      })))

  it.effect("a wrong identity: one line naming the problem, never the key; with --all the others are verified", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const { dir, key1 } = yield* sealedBackups(harness)
        const wrong = yield* cliFailure(verify(harness, Option.some("new"), Option.some(key1.file)))
        assert.strictEqual(
          wrong.message,
          `backup "new" cannot be decrypted with the identity: none of the identity's keys is a recipient of this file (it was encrypted for other keys)`
        )
        assert.include(wrong.hint ?? "", "--identity-file")
        assert.deepStrictEqual(harness.stdout, [])
        const all = yield* cliFailure(verify(harness, Option.none(), Option.some(key1.file)))
        assert.strictEqual(all.message, "1 of 2 backups could not be decrypted with the identity")
        assert.sameMembers(harness.stdout, [
          `new: NOT VERIFIED: backup "new" cannot be decrypted with the identity: none of the identity's keys is a recipient of this file (it was encrypted for other keys)`,
          "old: verified, 5 files and 3 items intact"
        ])
        const printed = [...harness.stdout, all.message, all.hint ?? "", wrong.message, wrong.hint ?? ""].join("\n")
        assert.notInclude(printed, key1.identity)
        // A file that holds no identity is refused before any backup is read.
        const notKeys = join(dir, "not-keys.txt")
        writeFileSync(notKeys, "AGE-SECRET-KEY-1SOMETHINGELSE\n")
        harness.stdout.length = 0
        const bad = yield* cliFailure(verify(harness, Option.none(), Option.some(notKeys)))
        assert.strictEqual(bad.message, `${notKeys}: line 1 is not an age X25519 identity (AGE-SECRET-KEY-1...)`)
        assert.deepStrictEqual(harness.stdout, [])
      })))

  it.effect("with the identity, a tarball re-encrypted with other entries fails on the item count", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const { key1 } = yield* sealedBackups(harness)
        const empty = new Uint8Array(zlib.gzipSync(Buffer.alloc(1024)))
        const sealed = yield* Stream.runCollect(encrypting([key1.recipient], Stream.make(empty))).pipe(
          Effect.map((chunks) => new Uint8Array(Buffer.concat([...chunks])))
        )
        yield* putObject(harness.store, "backups/old/old.tar.gz", sealed)
        const failure = yield* cliFailure(verify(harness, Option.some("old"), Option.some(key1.file)))
        assert.strictEqual(failure.message, "1 of 1 backups failed verification")
        assert.strictEqual(harness.stdout[0], "old: FAILED verification")
        assert.include(harness.stdout, "  the tarball holds 0 items, ark-backup.json records 3")
      })))
})

const seedStoredBackup = (harness: Harness) =>
  Effect.gen(function*() {
    yield* run(harness, createBackup(createArgs()))
    yield* setStatus(harness, { phase: "Completed" })
    for (
      const file of [
        "nightly.tar.gz",
        "nightly-logs.gz",
        "nightly-resource-list.json.gz",
        "nightly-results.gz",
        "ark-backup.json"
      ]
    ) {
      yield* putObject(harness.store, `backups/nightly/${file}`, new Uint8Array([1]))
    }
    yield* putObject(harness.store, "backups/nightly-2/ark-backup.json", new Uint8Array([1]))
    harness.storeCalls.length = 0
    harness.stdout.length = 0
  })

const deleteRequests = (harness: Harness) =>
  harness.kube.listPages(deleteBackupRequestsGvr, { namespace: serverNamespace }).pipe(
    Stream.runCollect,
    Effect.map((pages) => [...pages].flatMap((page) => page.items))
  )

describe("ark backup delete", () => {
  it.effect("with --confirm: submits a labelled DeleteBackupRequest, says what the server will delete, deletes nothing itself", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* harness.kube.create(locationsGvr, location("default"))
        yield* seedStoredBackup(harness)
        yield* setStatus(harness, { phase: "Completed", volumeSnapshotsCompleted: 2 })
        for (const name of ["nightly-restore", "other-restore"]) {
          yield* harness.kube.create(restoresGvr, {
            apiVersion: "ark.heptio.com/v1",
            kind: "Restore",
            metadata: { name, namespace: serverNamespace },
            spec: { backupName: name === "nightly-restore" ? "nightly" : "nightly-2" }
          })
        }
        yield* run(harness, deleteBackup({ name: "nightly", namespace: serverNamespace, confirm: true }))
        const [request, ...more] = yield* deleteRequests(harness)
        assert.lengthOf(more, 0)
        assert.deepStrictEqual(request!["spec"], { backupName: "nightly" })
        assert.deepStrictEqual(request!.metadata.labels, { "ark.heptio.com/backup-name": "nightly" })
        assert.match(request!.metadata.name ?? "", /^nightly-[a-z0-9]{5}$/)
        assert.deepStrictEqual(harness.storeCalls, [])
        yield* getBackup(harness)
        assert.strictEqual(
          harness.stdout[0],
          `Request to delete backup "nightly" submitted successfully (DeleteBackupRequest "${
            request!.metadata.name ?? ""
          }").`
        )
        assert.strictEqual(
          harness.stdout[1],
          "The Ark server deletes its files in storage location \"default\", its 2 volume snapshots, " +
            "its 1 restore (nightly-restore) with their files, then the Backup resource."
        )
        assert.include(harness.stdout[2] ?? "", "ark backup get nightly")
      })))

  it.effect("without --confirm and without a terminal: refuses, requests nothing", () =>
    withHarness({ tty: false }, (harness) =>
      Effect.gen(function*() {
        yield* harness.kube.create(locationsGvr, location("default"))
        yield* seedStoredBackup(harness)
        const error = yield* cliFailure(
          run(harness, deleteBackup({ name: "nightly", namespace: serverNamespace, confirm: false }))
        )
        assert.include(error.message, "refusing to delete without confirmation")
        assert.strictEqual(error.hint, "pass --confirm to delete non-interactively")
        assert.deepStrictEqual(yield* deleteRequests(harness), [])
      })))

  it.effect("on a terminal: 'n' cancels, 'y' submits the request", () =>
    Effect.gen(function*() {
      const declined = yield* makeHarness({ tty: true, keys: ["n"] })
      yield* declined.kube.create(locationsGvr, location("default"))
      yield* seedStoredBackup(declined)
      yield* run(declined, deleteBackup({ name: "nightly", namespace: serverNamespace, confirm: false }))
      assert.include(declined.stdout, "Cancelled: nothing was deleted.")
      assert.deepStrictEqual(yield* deleteRequests(declined), [])
      assert.isTrue(declined.displayed.some((text) =>
        text.includes("Delete backup \"nightly\": its files in storage location \"default\"")
      ))

      const accepted = yield* makeHarness({ tty: true, keys: ["y"] })
      yield* accepted.kube.create(locationsGvr, location("default"))
      yield* seedStoredBackup(accepted)
      yield* run(accepted, deleteBackup({ name: "nightly", namespace: serverNamespace, confirm: false }))
      assert.lengthOf(yield* deleteRequests(accepted), 1)
    }))

  it.effect("refuses an in-progress backup and a ReadOnly location", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* harness.kube.create(locationsGvr, location("default", "ReadOnly"))
        yield* seedStoredBackup(harness)
        const readOnly = yield* cliFailure(
          run(harness, deleteBackup({ name: "nightly", namespace: serverNamespace, confirm: true }))
        )
        assert.include(readOnly.message, "backup storage location \"default\" is ReadOnly")
        yield* setStatus(harness, { phase: "InProgress" })
        const running = yield* cliFailure(
          run(harness, deleteBackup({ name: "nightly", namespace: serverNamespace, confirm: true }))
        )
        assert.include(running.message, "backup \"nightly\" is in progress")
        assert.deepStrictEqual(yield* deleteRequests(harness), [])
      })))

  it.effect("refuses a backup under Object Lock retention until it passes, saying until when", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* harness.kube.create(locationsGvr, location("default"))
        yield* seedStoredBackup(harness)
        yield* TestClock.setTime(Date.parse("2024-05-01T12:00:00Z"))
        yield* setStatus(harness, {
          phase: "Completed",
          retention: { mode: "GOVERNANCE", retainUntil: "2024-05-01T13:00:00Z" }
        })
        const retained = yield* cliFailure(
          run(harness, deleteBackup({ name: "nightly", namespace: serverNamespace, confirm: true }))
        )
        assert.strictEqual(
          retained.message,
          "backup \"nightly\" is retained until 2024-05-01T13:00:00Z (S3 Object Lock, mode GOVERNANCE): " +
            "it cannot be deleted before then; nothing is deleted"
        )
        assert.include(retained.hint ?? "", "cannot shorten the retention")
        assert.deepStrictEqual(yield* deleteRequests(harness), [])

        yield* TestClock.setTime(Date.parse("2024-05-01T13:00:00Z"))
        yield* run(harness, deleteBackup({ name: "nightly", namespace: serverNamespace, confirm: true }))
        assert.lengthOf(yield* deleteRequests(harness), 1)
      })))

  it.effect("a missing storage location or backup: refuses, requests nothing", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* seedStoredBackup(harness)
        const error = yield* cliFailure(
          run(harness, deleteBackup({ name: "nightly", namespace: serverNamespace, confirm: true }))
        )
        assert.include(error.message, "backup \"nightly\" is stored in location \"default\"")
        assert.include(error.message, "nothing is deleted")
        const missing = yield* cliFailure(
          run(harness, deleteBackup({ name: "nope", namespace: serverNamespace, confirm: true }))
        )
        assert.strictEqual(missing.message, "backup \"nope\" not found in namespace heptio-ark")
        assert.deepStrictEqual(yield* deleteRequests(harness), [])
        yield* getBackup(harness)
      })))
})

describe("ark backup-location", () => {
  it.effect("create submits the location; get shows it with its phase", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* run(
          harness,
          createBackupLocation({
            name: "minio",
            namespace: serverNamespace,
            provider: "aws",
            bucket: "ark",
            prefix: Option.some("/cluster-a/"),
            config: ["region=minio,s3ForcePathStyle=true"],
            accessMode: "ReadWrite",
            objectLock: Option.some("GOVERNANCE")
          })
        )
        assert.deepStrictEqual(submitted(yield* harness.kube.get(locationsGvr, "minio", serverNamespace)), {
          apiVersion: "ark.heptio.com/v1",
          kind: "BackupStorageLocation",
          metadata: { name: "minio", namespace: serverNamespace },
          spec: {
            provider: "aws",
            objectStorage: { bucket: "ark", prefix: "cluster-a", objectLock: { mode: "GOVERNANCE" } },
            config: { region: "minio", s3ForcePathStyle: "true" },
            accessMode: "ReadWrite"
          }
        })
        harness.stdout.length = 0
        yield* run(harness, getBackupLocations({ name: Option.none(), namespace: serverNamespace, output: "table" }))
        assert.match(
          harness.stdout[0] ?? "",
          /^NAME\s+DEFAULT\s+PROVIDER\s+BUCKET\/PREFIX\s+PHASE\s+LAST VALIDATED\s+ACCESS MODE\s+MESSAGE$/
        )
        assert.match(harness.stdout[1] ?? "", /^minio\s+aws\s+ark\/cluster-a\s+Unknown\s+<never>\s+ReadWrite$/)

        yield* harness.kube.patchStatus(locationsGvr, "minio", {
          type: "merge",
          body: { status: { phase: "Unavailable", message: "bucket ark does not exist" } }
        }, serverNamespace)
        harness.stdout.length = 0
        yield* run(
          harness,
          getBackupLocations({ name: Option.some("minio"), namespace: serverNamespace, output: "table" })
        )
        assert.match(
          harness.stdout[1] ?? "",
          /^minio\s+aws\s+ark\/cluster-a\s+Unavailable\s+<never>\s+ReadWrite\s+bucket ark does not exist$/
        )

        harness.stdout.length = 0
        yield* run(
          harness,
          getBackupLocations({ name: Option.some("minio"), namespace: serverNamespace, output: "json" })
        )
        assert.strictEqual(
          (JSON.parse(harness.stdout.join("\n")) as { status: { phase: string } }).status.phase,
          "Unavailable"
        )
      })))

  it.effect("--config takes k=v,k2=v2 as Velero does; a bad entry, key or value is refused and nothing is created", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const flags = (...config: ReadonlyArray<string>) => ({
          name: "minio",
          namespace: serverNamespace,
          provider: "aws" as const,
          bucket: "ark",
          prefix: Option.none(),
          config,
          accessMode: "ReadWrite" as const
        })
        const refused = (config: ReadonlyArray<string>) =>
          cliFailure(run(harness, createBackupLocation(flags(...config)))).pipe(
            Effect.map((error) => ({ message: error.message, hint: error.hint }))
          )
        assert.deepStrictEqual(yield* refused(["region=us-east-1,s3Url"]), {
          message: "--config: \"s3Url\" is not key=value",
          hint: "for example: --config region=us-east-1,s3ForcePathStyle=true"
        })
        assert.deepStrictEqual(yield* refused(["regoin=us-east-1"]), {
          message: "--config: regoin is not a setting of provider aws",
          hint: "provider aws understands region, s3Url, s3ForcePathStyle, profile"
        })
        assert.strictEqual(
          (yield* refused(["region=us east 1"])).message,
          "--config: region \"us east 1\" is not a region name"
        )
        assert.strictEqual(
          (yield* refused(["s3Url=minio:9000"])).message.startsWith("--config: s3Url must be an http(s) URL"),
          true
        )
        assert.strictEqual((yield* refused(["region=a", "region=b"])).message, "--config: region is given twice")
        const absent = yield* Effect.flip(harness.kube.get(locationsGvr, "minio", serverNamespace))
        assert.strictEqual(absent._tag, "KubeNotFound")

        // The README's line: one flag, three settings; a repeated flag adds to them.
        yield* run(
          harness,
          createBackupLocation(
            flags("region=us-east-1,s3Url=http://minio:9000,s3ForcePathStyle=true", "profile=backup")
          )
        )
        const created = submitted(yield* harness.kube.get(locationsGvr, "minio", serverNamespace))
        assert.deepStrictEqual((created["spec"] as { config?: unknown }).config, {
          region: "us-east-1",
          s3Url: "http://minio:9000",
          s3ForcePathStyle: "true",
          profile: "backup"
        })
      })))

  it.effect("bad names, duplicates and unknown locations are one line and a hint", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        const args = {
          name: "minio",
          namespace: serverNamespace,
          provider: "filesystem" as const,
          bucket: "ark",
          prefix: Option.none(),
          config: ["path=/var/ark"],
          accessMode: "ReadOnly" as const
        }
        const badName = yield* cliFailure(run(harness, createBackupLocation({ ...args, name: "MinIO" })))
        assert.include(badName.message, "invalid backup storage location name \"MinIO\"")
        const locked = yield* cliFailure(
          run(harness, createBackupLocation({ ...args, objectLock: Option.some("COMPLIANCE" as const) }))
        )
        assert.strictEqual(
          locked.message,
          "--object-lock needs provider aws (S3 Object Lock): a filesystem location cannot retain files"
        )
        assert.strictEqual(
          (yield* Effect.flip(harness.kube.get(locationsGvr, "minio", serverNamespace)))._tag,
          "KubeNotFound"
        )
        yield* run(harness, createBackupLocation(args))
        const duplicate = yield* cliFailure(run(harness, createBackupLocation(args)))
        assert.strictEqual(
          duplicate.message,
          `backup storage location "minio" already exists in namespace ${serverNamespace}`
        )
        const unknown = yield* cliFailure(
          run(harness, getBackupLocations({ name: Option.some("s3"), namespace: serverNamespace, output: "table" }))
        )
        assert.strictEqual(unknown.message, `backup storage location "s3" not found in namespace ${serverNamespace}`)
        assert.strictEqual(unknown.hint, "ark backup-location get lists them")
      })))
})

describe("ark backup get and delete of several: names, -l, --all", () => {
  const seedThree = (harness: Harness) =>
    Effect.gen(function*() {
      yield* harness.kube.create(locationsGvr, location("default"))
      for (const [name, team] of [["a", "shop"], ["b", "shop"], ["c", "web"]] as const) {
        yield* run(harness, createBackup(createArgs({ name, labels: [`team=${team}`] })))
        yield* setStatus(harness, { phase: "Completed" }, name)
      }
      harness.stdout.length = 0
    })
  const rows = (harness: Harness) => harness.stdout.slice(1).map((line) => line.split(/\s+/)[0])

  it.effect("get takes several names in the order given, or -l, not both", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* seedThree(harness)
        yield* run(
          harness,
          getBackups({ names: ["c", "a"], selector: Option.none(), namespace: serverNamespace, output: "table" })
        )
        assert.deepStrictEqual(rows(harness), ["c", "a"])
        harness.stdout.length = 0
        yield* run(
          harness,
          getBackups({ names: [], selector: Option.some("team=shop"), namespace: serverNamespace, output: "table" })
        )
        assert.deepStrictEqual(rows(harness), ["a", "b"])
        const both = yield* cliFailure(
          run(
            harness,
            getBackups({
              names: ["a"],
              selector: Option.some("team=shop"),
              namespace: serverNamespace,
              output: "table"
            })
          )
        )
        assert.include(both.message, "only one of them")
        const bad = yield* cliFailure(
          run(
            harness,
            getBackups({
              names: [],
              selector: Option.some("team in shop"),
              namespace: serverNamespace,
              output: "table"
            })
          )
        )
        assert.match(bad.message, /^-l team in shop: /)
      })))

  it.effect("delete -l files a request for each match; --all for every one; nothing selected is refused", () =>
    withHarness({}, (harness) =>
      Effect.gen(function*() {
        yield* seedThree(harness)
        const requested = deleteRequests(harness).pipe(
          Effect.map((items) => items.map((item) => (item["spec"] as { backupName: string }).backupName).sort())
        )
        const none = yield* cliFailure(
          run(
            harness,
            deleteBackups({ names: [], selector: Option.none(), all: false, namespace: serverNamespace, confirm: true })
          )
        )
        assert.strictEqual(none.message, "which backups? give their names, -l SELECTOR or --all")
        assert.deepStrictEqual(yield* requested, [])
        yield* run(
          harness,
          deleteBackups({
            names: [],
            selector: Option.some("team=shop"),
            all: false,
            namespace: serverNamespace,
            confirm: true
          })
        )
        assert.deepStrictEqual(yield* requested, ["a", "b"])
        yield* run(
          harness,
          deleteBackups({ names: [], selector: Option.none(), all: true, namespace: serverNamespace, confirm: true })
        )
        assert.deepStrictEqual(yield* requested, ["a", "a", "b", "b", "c"])
      })))
})
