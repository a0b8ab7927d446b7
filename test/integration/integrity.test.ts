// Backups you can prove, on the real cluster and MinIO: a server that signs, one that requires
// signatures and one that does not, sharing one bucket prefix. `ark backup verify` (the real entry
// point) names a tampered file; a verifying server neither imports a planted backup nor restores a
// tampered one, and writes nothing for it.
import { generateKeyPairSync, randomUUID } from "node:crypto"

import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Option, Stream } from "effect"

import { KubeClient } from "../../services/KubeClient.ts"
import { apiVersion } from "../../src/api/index.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { signatureKeyOf } from "../../src/integrity/signature.ts"
import { arkInCluster } from "../support/arkProcess.ts"
import { waitFor } from "../support/wait.ts"
import { liveKube } from "./live.ts"
import {
  arkGvr,
  arkServer,
  kubeconfigOf,
  listAll,
  logged,
  putStoredBackup,
  serverNamespace,
  sharedMinio,
  statusOf,
  storeAt
} from "./serverProcess.ts"

const run = randomUUID().slice(0, 8)
const deadline = "120 seconds"
const secrets = { group: "", version: "v1", resource: "secrets" }
const configMaps = { group: "", version: "v1", resource: "configmaps" }
const namespaces = { group: "", version: "v1", resource: "namespaces" }

const { privateKey, publicKey } = generateKeyPairSync("ed25519")
const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString()
const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString()

/** A server namespace whose location "default" names these keys (a Secret holding both PEMs). */
const keyedNamespace = (
  namespace: string,
  s3: Effect.Effect.Success<ReturnType<typeof sharedMinio>>,
  keys: { readonly signing: boolean; readonly verification: boolean }
) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* serverNamespace(namespace, s3)
    yield* kube.create(secrets, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "backup-keys", namespace },
      stringData: { private: privatePem, public: publicPem }
    })
    yield* kube.patch(arkGvr.locations, "default", {
      type: "merge",
      body: {
        spec: {
          ...(keys.signing ? { signingKey: { name: "backup-keys", key: "private" } } : {}),
          ...(keys.verification ? { verificationKey: { name: "backup-keys", key: "public" } } : {})
        }
      }
    }, namespace)
  })

const bytesAt = (s3: Effect.Effect.Success<ReturnType<typeof sharedMinio>>, key: string) =>
  storeAt(s3).pipe(
    Effect.flatMap((store) => Stream.runCollect(store.get(key))),
    Effect.map((chunks) => Buffer.concat(Chunk.toArray(chunks)))
  )

const putBytes = (s3: Effect.Effect.Success<ReturnType<typeof sharedMinio>>, key: string, bytes: Uint8Array) =>
  storeAt(s3).pipe(Effect.flatMap((store) => store.put(key, Stream.make(bytes))))

const phaseOf = (resource: typeof arkGvr.backups, name: string, namespace: string) =>
  KubeClient.pipe(
    Effect.flatMap((kube) => kube.get(resource, name, namespace)),
    Effect.map((object) => Option.fromNullable(statusOf(object)["phase"] as string | undefined)),
    Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.none<string>()))
  )

const waitPhase = (resource: typeof arkGvr.backups, name: string, namespace: string, phases: ReadonlyArray<string>) =>
  waitFor(
    `${resource.resource} ${name} in ${phases.join(" or ")}`,
    phaseOf(resource, name, namespace).pipe(Effect.map(Option.filter((phase) => phases.includes(phase)))),
    deadline
  )

describe("signed, verified backups", () => {
  it.live(
    "signed backups verify; a planted one is imported only where signatures are not required; tampered ones are named and never restored",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const kubeconfig = yield* kubeconfigOf(1)
        const s3 = yield* sharedMinio(`ark-it-integrity-${run}`)
        const signer = `ark-it-sign-${run}`
        const verifier = `ark-it-verify-${run}`
        const app = `ark-it-signed-app-${run}`
        yield* keyedNamespace(signer, s3, { signing: true, verification: false })
        yield* keyedNamespace(verifier, s3, { signing: false, verification: true })
        yield* Effect.acquireRelease(
          kube.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: app } }),
          () => kube.delete(namespaces, app).pipe(Effect.ignore)
        )
        yield* kube.create(configMaps, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "settings", namespace: app },
          data: { mode: "prod" }
        })
        const signing = yield* arkServer(kubeconfig, signer, ["--verify-after-backup"])
        const show = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
          effect.pipe(Effect.tapError(() => Effect.sync(() => console.log(signing.output()))))

        // One signed backup per way of tampering, and one left intact.
        const names = ["intact", "flipped", "truncated", "swapped"].map((what) => `${what}-${run}`)
        for (const name of names) {
          yield* kube.create(arkGvr.backups, {
            apiVersion,
            kind: "Backup",
            metadata: { name, namespace: signer },
            spec: { includedNamespaces: [app], storageLocation: "default", ttl: "1h" }
          })
          yield* show(waitPhase(arkGvr.backups, name, signer, ["Completed"]))
        }
        const [intact, flipped, truncated, swapped] = names as [string, string, string, string]
        // The cluster's Backup carries the digests the restores check against.
        const files = statusOf(yield* kube.get(arkGvr.backups, swapped, signer))["files"] as Array<{ name: string }>
        assert.include(files.map((file) => file.name), `${swapped}.tar.gz`)
        const stored = yield* storeAt(s3)
        assert.isTrue(yield* stored.exists(signatureKeyOf(backupKeys(intact).metadata)))
        // --verify-after-backup: the server read each one back and recorded it.
        const verification = yield* show(waitFor(
          "the server's read-back of the intact backup",
          kube.get(arkGvr.backups, intact, signer).pipe(
            Effect.map((object) =>
              Option.fromNullable(statusOf(object)["verification"] as { phase: string } | undefined)
            )
          ),
          deadline
        ))
        assert.strictEqual(verification.phase, "Verified")

        // A backup planted by someone who can write to the bucket but holds no signing key.
        const planted = `planted-${run}`
        yield* putStoredBackup(s3, signer, planted, Stream.make(yield* bytesAt(s3, backupKeys(intact).tarball)))

        const clean = yield* arkInCluster(signer, kubeconfig, "backup", "verify", intact)
        assert.strictEqual(clean.status, 0, clean.stderr)
        assert.include(clean.stdout, `${intact}: verified`)

        const tarball = (name: string) => backupKeys(name).tarball
        const flippedBytes = yield* bytesAt(s3, tarball(flipped))
        flippedBytes[flippedBytes.length >> 1] = flippedBytes[flippedBytes.length >> 1]! ^ 0x01
        yield* putBytes(s3, tarball(flipped), flippedBytes)
        const truncatedBytes = yield* bytesAt(s3, tarball(truncated))
        yield* putBytes(s3, tarball(truncated), truncatedBytes.subarray(0, truncatedBytes.length - 100))
        yield* putBytes(s3, tarball(swapped), yield* bytesAt(s3, tarball(intact)))
        for (const name of [flipped, truncated, swapped]) {
          const result = yield* arkInCluster(signer, kubeconfig, "backup", "verify", name)
          assert.notStrictEqual(result.status, 0, result.stdout)
          assert.include(result.stdout, `${name}: FAILED verification`)
          assert.include(result.stdout, `${name}.tar.gz: SHA-256`)
        }

        // The signing server does not require signatures: it imports the planted backup.
        yield* show(waitPhase(arkGvr.backups, planted, signer, ["Completed"]))

        // The verifying server imports the signed backups and refuses the planted one, saying why.
        const verifying = yield* arkServer(kubeconfig, verifier)
        yield* waitPhase(arkGvr.backups, intact, verifier, ["Completed"]).pipe(
          Effect.tapError(() => Effect.sync(() => console.log(verifying.output())))
        )
        yield* waitFor(
          "the verifying server to log why it left the planted backup alone",
          Effect.sync(() =>
            Option.fromNullable(
              logged(verifying, `backup ${planted} left alone`, true).find((entry) =>
                String(entry.message).includes("ark-backup.json is not signed")
              )
            )
          ),
          deadline
        )
        const imported = (yield* listAll(arkGvr.backups, verifier)).map((item) => item.metadata.name)
        assert.notInclude(imported, planted)
        assert.include(imported, intact)

        // Restores in the verifying namespace (which did not import the tampered backups, so each
        // is read from storage): they fail before anything is created; the intact one restores.
        for (const name of [flipped, truncated, swapped, intact]) {
          const target = `${app}-${name.split("-")[0]}`
          yield* kube.create(arkGvr.restores, {
            apiVersion,
            kind: "Restore",
            metadata: { name: `restore-${name}`, namespace: verifier },
            spec: { backupName: name, namespaceMapping: { [app]: target } }
          })
        }
        for (const name of [flipped, truncated, swapped]) {
          const phase = yield* waitPhase(arkGvr.restores, `restore-${name}`, verifier, ["FailedValidation", "Failed"])
          assert.strictEqual(phase, "FailedValidation")
          const status = statusOf(yield* kube.get(arkGvr.restores, `restore-${name}`, verifier))
          assert.include(String(status["validationErrors"]), `failed verification`)
          assert.include(String(status["validationErrors"]), `${name}.tar.gz`)
          const target = `${app}-${name.split("-")[0]}`
          const exists = yield* kube.get(namespaces, target).pipe(
            Effect.as(true),
            Effect.catchTag("KubeNotFound", () => Effect.succeed(false))
          )
          assert.isFalse(exists, `${target} was created by a restore of a tampered backup`)
        }
        // Where no signature is required, a restore still checks the tarball against the digests
        // the Backup recorded, in its first pass, and creates nothing from a changed one.
        for (const name of [flipped, truncated, swapped]) {
          const target = `${app}-plain-${name.split("-")[0]}`
          yield* kube.create(arkGvr.restores, {
            apiVersion,
            kind: "Restore",
            metadata: { name: `plain-restore-${name}`, namespace: signer },
            spec: { backupName: name, namespaceMapping: { [app]: target } }
          })
          const phase = yield* waitPhase(arkGvr.restores, `plain-restore-${name}`, signer, [
            "Failed",
            "FailedValidation",
            "Completed",
            "PartiallyFailed"
          ])
          const status = statusOf(yield* kube.get(arkGvr.restores, `plain-restore-${name}`, signer))
          assert.strictEqual(phase, "Failed", `${name}: ${JSON.stringify(status)}`)
          // A flipped byte or a cut usually breaks the gzip stream first; a valid swapped tarball only its digest.
          assert.match(
            String(status["failureReason"]),
            name === swapped
              ? /tar\.gz is not the file the backup wrote/
              : /unreadable archive|is not the file the backup wrote/
          )
          const exists = yield* kube.get(namespaces, target).pipe(
            Effect.as(true),
            Effect.catchTag("KubeNotFound", () => Effect.succeed(false))
          )
          assert.isFalse(exists, `${target} was created by a restore of a tampered backup`)
        }
        yield* waitPhase(arkGvr.restores, `restore-${intact}`, verifier, ["Completed"])
        const restored = yield* kube.get(configMaps, "settings", `${app}-intact`)
        assert.deepStrictEqual(restored["data"], { mode: "prod" })
        yield* kube.delete(namespaces, `${app}-intact`).pipe(Effect.ignore)

        // `ark backup verify` in the verifying namespace checks the signature as well.
        const signedOk = yield* arkInCluster(verifier, kubeconfig, "backup", "verify", intact)
        assert.strictEqual(signedOk.status, 0, signedOk.stdout + signedOk.stderr)
        const forged = new TextEncoder().encode(Buffer.alloc(64, 7).toString("base64"))
        yield* putBytes(s3, signatureKeyOf(backupKeys(intact).metadata), forged)
        const unsigned = yield* arkInCluster(verifier, kubeconfig, "backup", "verify", intact)
        assert.notStrictEqual(unsigned.status, 0)
        assert.include(unsigned.stdout, "its signature does not match the location's verification key")
      }).pipe(Effect.scoped, Effect.provide(liveKube())),
    600_000
  )
})
