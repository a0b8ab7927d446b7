// Backups encrypted with age, on two real clusters and MinIO. Cluster 1 backs up with public keys
// only (key1, then key2 after a rotation); no Secret value, nor the app's namespace or a value of
// the Backups' specs, labels and annotations, is in any object of the bucket; the standard `age`
// tool decrypts the downloaded tarball. Cluster 2 restores from the same location:
// without the identity, or with a wrong one, it fails saying why and creates nothing; with an
// identity holding both keys, both backups restore.
import { execFileSync } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"

import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Option, Stream } from "effect"

import { KubeClient } from "../../services/KubeClient.ts"
import { apiVersion } from "../../src/api/index.ts"
import { arkRun } from "../support/arkProcess.ts"
import { waitFor } from "../support/wait.ts"
import { liveKube } from "./live.ts"
import {
  arkGvr,
  arkServer,
  kubeconfigOf,
  logEntries,
  serverNamespace,
  sharedMinio,
  statusOf,
  storeAt,
  waitForImport,
  waitForObject
} from "./serverProcess.ts"

const run = randomUUID().slice(0, 8)
const secrets = { group: "", version: "v1", resource: "secrets" }
const namespaces = { group: "", version: "v1", resource: "namespaces" }
const SECRET_VALUE = `never-in-the-bucket-${run}`
// What a Backup's spec and metadata say about the cluster: only inside the encrypted resource file.
const SPEC_VALUES = {
  hookCommand: `/bin/freeze-ledger-${run}`,
  selectorKey: `ark-it-skip-${run}`,
  label: `owner-${run}`,
  annotation: `ticket-${run}`
}

const dir = mkdtempSync(join(tmpdir(), "ark-age-"))

/** A key made by age-keygen, as a user makes one: the identity file and its public key. */
const ageKeygen = (name: string) => {
  const file = join(dir, name)
  execFileSync("age-keygen", ["-o", file], { stdio: "ignore" })
  const text = readFileSync(file, "utf8")
  const recipient = /# public key: (age1\S+)/.exec(text)?.[1] ?? ""
  return { file, text, recipient }
}

const identityLines = (text: string) => text.split("\n").filter((line) => line.startsWith("AGE-SECRET-KEY-"))

/** Whether `bytes` hold the value, plainly, base64-encoded (a Secret's data), or inside gzip. */
const holds = (bytes: Buffer, value: string): boolean => {
  const plain = (data: Buffer) => data.includes(value) || data.includes(Buffer.from(value).toString("base64"))
  if (plain(bytes)) return true
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return false
  try {
    return plain(gunzipSync(bytes))
  } catch {
    return false
  }
}

const exists = (resource: typeof namespaces, name: string, namespace?: string) =>
  KubeClient.pipe(
    Effect.flatMap((kube) => kube.get(resource, name, namespace)),
    Effect.as(true),
    Effect.catchTag("KubeNotFound", () => Effect.succeed(false))
  )

const finishedPhase = (resource: typeof arkGvr.restores, name: string, namespace: string) =>
  waitForObject(
    resource,
    name,
    namespace,
    "finished",
    (object) =>
      ["Completed", "PartiallyFailed", "Failed", "FailedValidation"].includes(String(statusOf(object)["phase"]))
  ).pipe(
    Effect.map((object) => ({ phase: String(statusOf(object)["phase"]), status: statusOf(object) }))
  )

describe("backups encrypted with age", () => {
  it.live(
    "no Secret value in storage; age -d reads the download; restores need the identity, across a key rotation",
    () =>
      Effect.gen(function*() {
        const namespace = `ark-it-age-${run}`
        const app = `ark-it-age-app-${run}`
        const s3 = yield* sharedMinio(`ark-it-age-${run}`)
        const key1 = ageKeygen("key1.txt")
        const key2 = ageKeygen("key2.txt")
        const both = join(dir, "both.txt")
        execFileSync("sh", ["-c", `cat "${key1.file}" "${key2.file}" > "${both}"`])
        const one = yield* Layer.build(liveKube(1))
        const two = yield* Layer.build(liveKube(2))
        const kubeconfig1 = yield* kubeconfigOf(1)
        const verify = (kubeconfig: string, ...args: ReadonlyArray<string>) =>
          arkRun("backup", "verify", ...args, "-n", namespace, "--kubeconfig", kubeconfig)
        const keyLines = identityLines(key1.text + key2.text)

        // Cluster 1: the app (a Secret holding a known value), a server with only public keys.
        yield* Effect.gen(function*() {
          const kube = yield* KubeClient
          yield* serverNamespace(namespace, s3)
          yield* Effect.acquireRelease(
            kube.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: app } }),
            () => kube.delete(namespaces, app).pipe(Effect.ignore)
          )
          yield* kube.create(secrets, {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "db", namespace: app },
            stringData: { password: SECRET_VALUE }
          })
          const setRecipients = (encryption: Record<string, unknown>) =>
            kube.patch(arkGvr.locations, "default", { type: "merge", body: { spec: { encryption } } }, namespace)
          const backUp = (name: string) =>
            kube.create(arkGvr.backups, {
              apiVersion,
              kind: "Backup",
              metadata: {
                name,
                namespace,
                labels: { team: SPEC_VALUES.label },
                annotations: { note: SPEC_VALUES.annotation }
              },
              spec: {
                includedNamespaces: [app],
                labelSelector: { matchExpressions: [{ key: SPEC_VALUES.selectorKey, operator: "DoesNotExist" }] },
                orderedResources: { secrets: `${app}/db` },
                // No pod matches: the hook never runs, but its command is in the spec.
                hooks: {
                  resources: [{
                    name: "freeze",
                    includedNamespaces: [app],
                    pre: [{ exec: { command: [SPEC_VALUES.hookCommand] } }]
                  }]
                },
                storageLocation: "default",
                ttl: "1h"
              }
            }).pipe(
              Effect.zipRight(
                waitForObject(
                  arkGvr.backups,
                  name,
                  namespace,
                  "Completed",
                  (object) => statusOf(object)["phase"] === "Completed"
                )
              )
            )
          yield* setRecipients({ recipients: [key1.recipient] })
          const server = yield* arkServer(kubeconfig1, namespace)
          const backupA = yield* backUp("a").pipe(
            Effect.tapError(() => Effect.sync(() => console.log(server.output())))
          )
          assert.strictEqual(statusOf(backupA)["encryption"], "age")
          // Rotation: the new recipient from a Secret, the spec's list dropped.
          yield* kube.create(secrets, {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "age-recipients", namespace },
            stringData: { recipients: `# rotated\n${key2.recipient}\n` }
          })
          yield* setRecipients({ recipients: null, recipientsSecret: { name: "age-recipients", key: "recipients" } })
          yield* backUp("b").pipe(Effect.tapError(() => Effect.sync(() => console.log(server.output()))))
          // The server's log never holds a private key, nor the value.
          for (const secret of [...identityLines(key1.text + key2.text), SECRET_VALUE]) {
            assert.notInclude(server.output(), secret)
          }
        }).pipe(Effect.provide(one))

        // Storage: every object of the prefix, and none holds the value (nor, gunzipped, does any).
        const store = yield* storeAt(s3)
        const listing = yield* store.list("")
        const keys = listing.objects.map((object) => object.key)
        assert.include(keys, "backups/a/a.tar.gz")
        assert.include(keys, "backups/b/b.tar.gz")
        const bytesOf = (key: string) =>
          Stream.runCollect(store.get(key)).pipe(Effect.map((chunks) => Buffer.concat(Chunk.toArray(chunks))))
        // Nor the app's namespace or any value of the Backups' specs and metadata: ark-backup.json is
        // minimal, the whole resource is encrypted beside it.
        assert.include(keys, "backups/a/ark-backup-resource.json.age")
        for (const key of keys) {
          const bytes = yield* bytesOf(key)
          for (const value of [SECRET_VALUE, app, ...Object.values(SPEC_VALUES)]) {
            assert.isFalse(holds(bytes, value), `${key} holds ${value}`)
          }
        }

        // `ark backup download` without an identity saves the file as stored; `age -d` opens it.
        const sealed = join(dir, "a-data.tar.gz.age")
        const download = yield* arkRun(
          "backup",
          "download",
          "a",
          "-o",
          sealed,
          "-n",
          namespace,
          "--kubeconfig",
          kubeconfig1
        )
        assert.strictEqual(download.status, 0, download.stderr)
        assert.include(download.stdout, "age -d")
        const plain = join(dir, "a-data.tar.gz")
        execFileSync("age", ["-d", "-i", key1.file, "-o", plain, sealed])
        const entry = `resources/secrets/namespaces/${app}/db.json`
        const secret = JSON.parse(execFileSync("tar", ["-xzOf", plain, entry], { encoding: "utf8" })) as {
          data: Record<string, string>
        }
        assert.strictEqual(Buffer.from(secret.data["password"] ?? "", "base64").toString(), SECRET_VALUE)
        // The check above would have seen the value: it is in the decrypted tarball.
        assert.isTrue(holds(readFileSync(plain), SECRET_VALUE))
        // With --identity-file the CLI decrypts: the same tarball.
        const decrypted = join(dir, "a-decrypted.tar.gz")
        const direct = yield* arkRun(
          "backup",
          "download",
          "a",
          "-o",
          decrypted,
          "--identity-file",
          key1.file,
          "-n",
          namespace,
          "--kubeconfig",
          kubeconfig1
        )
        assert.strictEqual(direct.status, 0, direct.stderr)
        assert.isTrue(readFileSync(decrypted).equals(readFileSync(plain)))
        // Logs: with the identity file they read; without one, the reason and the flag to pass.
        const logs = yield* arkRun(
          "backup",
          "logs",
          "b",
          "--identity-file",
          both,
          "-n",
          namespace,
          "--kubeconfig",
          kubeconfig1
        )
        assert.strictEqual(logs.status, 0, logs.stderr)
        assert.include(logs.stdout, "backup b started")
        const noKey = yield* arkRun("backup", "logs", "b", "-n", namespace, "--kubeconfig", kubeconfig1)
        assert.notStrictEqual(noKey.status, 0)
        assert.include(noKey.stderr, `backup "b" is encrypted with age`)
        assert.include(noKey.stderr, "--identity-file")
        const wrongKey = yield* arkRun(
          "backup",
          "logs",
          "b",
          "--identity-file",
          key1.file,
          "-n",
          namespace,
          "--kubeconfig",
          kubeconfig1
        )
        assert.notStrictEqual(wrongKey.status, 0)
        assert.include(wrongKey.stderr, "none of the identity's keys is a recipient")

        // Verify: with the identity, every entry of the tarball is parsed and counted; without one
        // (cluster 1's location names no identity Secret), only the digests, and it says so.
        const opened = yield* verify(kubeconfig1, "a", "--identity-file", key1.file)
        assert.strictEqual(opened.status, 0, opened.stderr)
        assert.match(opened.stdout, /^a: verified, \d+ files and \d+ items intact\n$/)
        const blind = yield* verify(kubeconfig1, "b")
        assert.strictEqual(blind.status, 0, blind.stderr)
        assert.match(
          blind.stdout,
          /^b: verified, \d+ files intact \(encrypted: their digests, not the tarball's entries\)$/m
        )
        assert.include(blind.stdout, `not decrypted: backup storage location "default" names no identity Secret`)
        const wrongVerify = yield* verify(kubeconfig1, "b", "--identity-file", key1.file)
        assert.notStrictEqual(wrongVerify.status, 0)
        assert.strictEqual(wrongVerify.stdout, "")
        assert.match(
          wrongVerify.stderr,
          /^error: backup "b" cannot be decrypted with the identity: none of the identity's keys is a recipient[^\n]*\nhint: [^\n]*\n$/
        )
        const every = yield* verify(kubeconfig1, "--all", "--identity-file", both)
        assert.strictEqual(every.status, 0, every.stderr)
        assert.match(every.stdout, /^a: verified, \d+ files and \d+ items intact$/m)
        assert.match(every.stdout, /^b: verified, \d+ files and \d+ items intact$/m)
        for (const run of [opened, blind, wrongVerify, every]) {
          for (const secret of keyLines) assert.notInclude(run.stdout + run.stderr, secret)
        }

        // Cluster 2: the same location, restore-only; sync imports both backups (no key needed).
        yield* Effect.gen(function*() {
          const kube = yield* KubeClient
          yield* serverNamespace(namespace, s3)
          const server = yield* arkServer(yield* kubeconfigOf(2), namespace, ["--restore-only"])
          yield* waitForImport("a", namespace, server)
          yield* waitForImport("b", namespace, server)
          const restore = (name: string, backup: string, target: string) =>
            kube.create(arkGvr.restores, {
              apiVersion,
              kind: "Restore",
              metadata: { name, namespace },
              spec: { backupName: backup, namespaceMapping: { [app]: target } }
            }).pipe(Effect.zipRight(finishedPhase(arkGvr.restores, name, namespace)))
          const refused = (name: string, backup: string, reason: string) =>
            Effect.gen(function*() {
              const target = `${app}-${name}`
              const result = yield* restore(name, backup, target)
              assert.strictEqual(result.phase, "FailedValidation", JSON.stringify(result.status))
              assert.include(String(result.status["validationErrors"]), reason)
              assert.isFalse(yield* exists(namespaces, target), `${target} was created`)
              yield* waitFor(
                `the server to log why ${name} failed`,
                Effect.sync(() =>
                  logEntries(server.output()).some((entry) => String(entry.message).includes(reason))
                    ? Option.some(true)
                    : Option.none()
                ),
                "60 seconds"
              )
            })

          // No identity Secret on the location.
          yield* refused("none", "a", `backup "a" is encrypted with age`)
          // An identity holding key1 only: backup b was encrypted for key2.
          yield* kube.create(secrets, {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "age-identity", namespace },
            stringData: { identity: key1.text }
          })
          yield* kube.patch(arkGvr.locations, "default", {
            type: "merge",
            body: { spec: { encryption: { identitySecret: { name: "age-identity", key: "identity" } } } }
          }, namespace)
          yield* refused("wrong", "b", "none of the identity's keys is a recipient")

          // Both keys: both backups restore, the Secret's value with them.
          yield* kube.patch(secrets, "age-identity", {
            type: "merge",
            body: { stringData: { identity: readFileSync(both, "utf8") } }
          }, namespace)
          for (const backup of ["a", "b"]) {
            const target = `${app}-${backup}`
            yield* Effect.addFinalizer(() => kube.delete(namespaces, target).pipe(Effect.ignore))
            const result = yield* restore(`restore-${backup}`, backup, target).pipe(
              Effect.tapError(() => Effect.sync(() => console.log(server.output())))
            )
            assert.strictEqual(result.phase, "Completed", JSON.stringify(result.status))
            const restored = yield* kube.get(secrets, "db", target)
            const data = restored["data"] as Record<string, string>
            assert.strictEqual(Buffer.from(data["password"] ?? "", "base64").toString(), SECRET_VALUE)
          }
          // The server's log holds no private key.
          for (const secret of keyLines) assert.notInclude(server.output(), secret)
          // Verify without --identity-file reads with the location's identity Secret.
          const withSecret = yield* verify(yield* kubeconfigOf(2), "--all")
          assert.strictEqual(withSecret.status, 0, withSecret.stderr)
          assert.match(withSecret.stdout, /^a: verified, \d+ files and \d+ items intact$/m)
          assert.match(withSecret.stdout, /^b: verified, \d+ files and \d+ items intact$/m)
        }).pipe(Effect.provide(two))
      }).pipe(Effect.scoped),
    600_000
  )
})
