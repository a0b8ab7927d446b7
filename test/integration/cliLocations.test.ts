// `ark backup-location set|delete|--default`, the reachability check at create, `-n` in hints,
// $ARK_NAMESPACE, and `ark version` with a running server's version: the real entry point in a
// child process against the test environment's API server and MinIO.
import { randomUUID } from "node:crypto"

import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { arkVersion } from "../../src/version.ts"
import { arkRunWithEnv } from "../support/arkProcess.ts"
import { waitFor } from "../support/wait.ts"
import { applyCrds, ensureNamespace, namespaceGvr } from "./crdsApply.ts"
import { liveKube } from "./live.ts"
import { arkGvr, arkServer, kubeconfigOf, serverNamespace, sharedMinio } from "./serverProcess.ts"

const run = randomUUID().slice(0, 8)

/** `ark ARGS --kubeconfig $KUBECONFIG` with `env` added, run to its end without blocking the test's fibers. */
const arkWith = (env: NodeJS.ProcessEnv, ...args: ReadonlyArray<string>) =>
  arkRunWithEnv({ ...process.env, ...env }, ...args, "--kubeconfig", process.env["KUBECONFIG"] ?? "")

const inNamespace = <A, E>(namespace: string, body: Effect.Effect<A, E, KubeClient>) =>
  Effect.gen(function*() {
    yield* applyCrds
    yield* ensureNamespace(namespace)
    return yield* body
  }).pipe(
    Effect.ensuring(KubeClient.pipe(Effect.flatMap((kube) => kube.delete(namespaceGvr, namespace)), Effect.ignore)),
    Effect.provide(liveKube())
  )

const specOf = (object: KubeObject) => object["spec"] as Record<string, unknown>

describe("ark backup-location and snapshot-location on a real API server", () => {
  const namespace = `ark-cli-loc-${run}`
  const ark = (...args: ReadonlyArray<string>) => arkWith({}, ...args, "-n", namespace)
  const s3Url = process.env["ARK_TEST_S3_URL"] ?? ""
  const bucket = process.env["ARK_TEST_S3_BUCKET"] ?? ""
  const s3Config = `region=us-east-1,s3Url=${s3Url},s3ForcePathStyle=true`

  it.live(
    "create checks the store at once; --default marks one; set changes it; delete takes its Backups along",
    () =>
      inNamespace(
        namespace,
        Effect.gen(function*() {
          const kube = yield* KubeClient
          const location = (name: string) => kube.get(arkGvr.locations, name, namespace)
          const create = (name: string, config: string, ...flags: ReadonlyArray<string>) =>
            ark(
              "backup-location",
              "create",
              name,
              "--provider",
              "aws",
              "--bucket",
              bucket,
              "--prefix",
              `cli-${run}-${name}`,
              "--config",
              config,
              ...flags
            )

          const reachable = yield* create("minio", s3Config, "--default")
          assert.strictEqual(reachable.status, 0, reachable.stderr)
          assert.include(reachable.stdout, `Backup storage location "minio" created as the default; bucket ${bucket}`)
          assert.include(reachable.stdout, "is reachable")
          assert.strictEqual(specOf(yield* location("minio"))["default"], true)

          // Nothing listens on port 1: the location is created, and the command says at once that it cannot be used.
          const unreachable = yield* create(
            "nowhere",
            "region=us-east-1,s3Url=http://127.0.0.1:1,s3ForcePathStyle=true"
          )
          assert.strictEqual(unreachable.status, 0, unreachable.stderr)
          assert.match(
            unreachable.stderr,
            /^warning: backup storage location "nowhere" created, but its store cannot be reached: /
          )
          assert.include(
            unreachable.stderr,
            `hint: fix the location with \`ark backup-location set nowhere --config ... -n ${namespace}\``
          )
          assert.notInclude(unreachable.stdout, "successfully")
          yield* location("nowhere")

          // One default at a time, whichever way it is set.
          assert.strictEqual((yield* create("second", s3Config, "--default")).status, 0)
          assert.strictEqual(specOf(yield* location("second"))["default"], true)
          assert.strictEqual(specOf(yield* location("minio"))["default"], false)
          const table = yield* ark("backup-location", "get")
          assert.match(table.stdout, /^NAME\s+DEFAULT\s+PROVIDER/)
          assert.match(table.stdout, /^second\s+true\s+aws\s/m)
          assert.match(table.stdout, /^minio\s+aws\s/m)
          const set = yield* ark("backup-location", "set", "minio", "--default")
          assert.strictEqual(set.status, 0, set.stderr)
          assert.strictEqual(specOf(yield* location("minio"))["default"], true)
          assert.strictEqual(specOf(yield* location("second"))["default"], false)

          // set --config adds to the settings and is checked as create checks it.
          const profile = yield* ark(
            "backup-location",
            "set",
            "minio",
            "--config",
            "profile=backup",
            "--credential",
            "cloud-credentials=cloud"
          )
          assert.strictEqual(profile.status, 0, profile.stderr)
          const updated = specOf(yield* location("minio"))
          assert.deepStrictEqual(updated["config"], {
            region: "us-east-1",
            s3Url,
            s3ForcePathStyle: "true",
            profile: "backup"
          })
          assert.deepStrictEqual(updated["credential"], { name: "cloud-credentials", key: "cloud" })
          const badKey = yield* ark("backup-location", "set", "minio", "--config", "regoin=eu-west-1")
          assert.notStrictEqual(badKey.status, 0)
          assert.include(badKey.stderr, "error: --config: regoin is not a setting of provider aws")
          assert.include(badKey.stderr, "hint: provider aws understands")
          const nothing = yield* ark("backup-location", "set", "minio")
          assert.notStrictEqual(nothing.status, 0)
          assert.include(nothing.stderr, "error: nothing to set")
          const badCredential = yield* ark("backup-location", "set", "minio", "--credential", "cloud-credentials")
          assert.include(badCredential.stderr, "error: --credential: \"cloud-credentials\" is not SECRET=KEY")
          assert.deepStrictEqual(specOf(yield* location("minio"))["config"], updated["config"])

          // A backup that names no location goes to the default one.
          assert.strictEqual((yield* ark("backup", "create", "to-default")).status, 0)
          assert.strictEqual(
            specOf(yield* kube.get(arkGvr.backups, "to-default", namespace))["storageLocation"],
            "minio"
          )
          assert.strictEqual((yield* ark("backup", "create", "to-second", "--storage-location", "second")).status, 0)

          // Delete: asks first; with --confirm, the location and the Backup resources stored in it go.
          const asked = yield* ark("backup-location", "delete", "second")
          assert.notStrictEqual(asked.status, 0)
          assert.include(asked.stderr, "hint: pass --confirm")
          yield* location("second")
          const deleted = yield* ark("backup-location", "delete", "second", "--confirm")
          assert.strictEqual(deleted.status, 0, deleted.stderr)
          assert.include(deleted.stdout, "Backup storage location \"second\" deleted.")
          assert.include(deleted.stdout, "Backup \"to-second\" deleted (its files stay in object storage).")
          assert.strictEqual((yield* Effect.flip(location("second")))._tag, "KubeNotFound")
          assert.strictEqual(
            (yield* Effect.flip(kube.get(arkGvr.backups, "to-second", namespace)))._tag,
            "KubeNotFound"
          )
          yield* kube.get(arkGvr.backups, "to-default", namespace)
          const missing = yield* ark("backup-location", "delete", "second", "--confirm")
          assert.include(missing.stderr, "error: backup storage location \"second\" not found")
          assert.include(missing.stderr, `hint: ark backup-location get -n ${namespace} lists them`)

          // Snapshot locations: get and delete.
          assert.strictEqual(
            (yield* ark("snapshot-location", "create", "local", "--provider", "local", "--config", "path=/tmp/ark"))
              .status,
            0
          )
          const vsl = yield* ark("snapshot-location", "delete", "local", "--confirm")
          assert.strictEqual(vsl.status, 0, vsl.stderr)
          assert.strictEqual(
            (yield* Effect.flip(kube.get(arkGvr.snapshotLocations, "local", namespace)))._tag,
            "KubeNotFound"
          )
          assert.include((yield* ark("snapshot-location", "get")).stdout, "No volume snapshot locations")
        })
      ),
    600_000
  )

  it.live(
    "hints name the namespace in use; $ARK_NAMESPACE chooses it when -n is not given",
    () =>
      inNamespace(
        `${namespace}-env`,
        Effect.gen(function*() {
          const own = `${namespace}-env`
          const missing = yield* arkWith({}, "backup", "describe", "nope", "-n", own)
          assert.notStrictEqual(missing.status, 0)
          assert.include(missing.stderr, `error: backup "nope" not found in namespace ${own}`)
          assert.include(missing.stderr, `hint: ark backup get -n ${own} lists them`)
          const created = yield* arkWith({ ARK_NAMESPACE: own }, "backup", "create", "by-env")
          assert.strictEqual(created.status, 0, created.stderr)
          assert.include(created.stdout, `Run \`ark backup describe by-env -n ${own}\``)
          const kube = yield* KubeClient
          yield* kube.get(arkGvr.backups, "by-env", own)
          // -n wins over $ARK_NAMESPACE.
          const elsewhere = yield* arkWith({ ARK_NAMESPACE: own }, "backup", "get", "-n", `${own}-absent`)
          assert.notInclude(elsewhere.stdout, "by-env")
        })
      ),
    300_000
  )
})

describe("ark version with a running server", () => {
  it.live(
    "prints the server's version once a server holds the lease",
    () =>
      Effect.gen(function*() {
        const namespace = `ark-cli-version-${run}`
        yield* serverNamespace(namespace, yield* sharedMinio(`ark-cli-version-${run}`))
        const before = yield* arkWith({}, "version", "-n", namespace)
        assert.strictEqual(before.status, 0, before.stderr)
        assert.include(before.stdout, `server: no Ark server has run in namespace ${namespace}`)
        yield* arkServer(yield* kubeconfigOf(1), namespace)
        const line = yield* waitFor(
          "ark version to show the server",
          Effect.map(arkWith({}, "version", "-n", namespace), (result) =>
            Option.fromNullable(result.stdout.split("\n").find((line) => line.startsWith("server ")))),
          "120 seconds"
        )
        assert.strictEqual(line, `server ${arkVersion} (namespace ${namespace})`)
        const clientOnly = yield* arkWith({}, "version", "--client-only", "-n", namespace)
        assert.notInclude(clientOnly.stdout, "server")
      }).pipe(Effect.scoped, Effect.provide(liveKube())),
    300_000
  )
})
