// manifests/ and `ark install` on a real API server: every manifest passes a server-side dry-run
// apply, `ark install --dry-run -o yaml` renders exactly what `kubectl kustomize` renders, and a
// real install creates its objects with the rights the RBAC comments promise.
import { spawnSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"

import { assert, describe, it } from "@effect/vitest"
import { Config, Effect, Option, Redacted } from "effect"
import { CORE_SCHEMA, loadAll } from "js-yaml"

import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { resourceOf } from "../../src/install/resources.ts"
import { waitFor } from "../support/wait.ts"
import { namespaceGvr } from "./crdsApply.ts"
import { liveKube } from "./live.ts"
import { arkGvr, arkServer, sharedMinio, statusOf, waitForObject } from "./serverProcess.ts"

const manifests = fileURLToPath(new URL("../../manifests", import.meta.url))
const main = fileURLToPath(new URL("../../bin/ark.mjs", import.meta.url))

const environment = Effect.all({ kubeconfig: Config.string("KUBECONFIG"), bin: Config.string("ARK_TEST_BIN") }).pipe(
  Effect.orDieWith((error) =>
    new Error(`integration tests need the test environment (test/testenv/globalSetup.ts): ${error}`)
  )
)

interface Run {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

const runProcess = (command: string, args: ReadonlyArray<string>): Run => {
  const run = spawnSync(command, args, { encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

const kubectl = (...args: ReadonlyArray<string>) =>
  Effect.map(
    environment,
    ({ bin, kubeconfig }) => runProcess(join(bin, "kubectl"), ["--kubeconfig", kubeconfig, ...args])
  )

const ark = (...args: ReadonlyArray<string>) => Effect.sync(() => runProcess(process.execPath, [main, ...args]))

const succeeded = (run: Run, what: string) => assert.strictEqual(run.status, 0, `${what}: ${run.stderr}`)

/** Objects by `Kind namespace/name`, as plain JSON. */
const byId = (yaml: string): Map<string, unknown> =>
  new Map(
    (loadAll(yaml, { schema: CORE_SCHEMA }) as Array<KubeObject>)
      .filter((object) => object !== null)
      .map((
        object
      ) => [
        `${object.kind} ${object.metadata.namespace ?? ""}/${object.metadata.name}`,
        JSON.parse(JSON.stringify(object))
      ])
  )

/** `kubectl kustomize` of `directory` and `ark install --dry-run -o yaml ARGS`: the same objects, the same content. */
const sameAsKustomize = (directory: string, ...args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const kustomized = yield* kubectl("kustomize", directory)
    succeeded(kustomized, `kubectl kustomize ${directory}`)
    const installed = yield* ark("install", "--dry-run", "-o", "yaml", ...args)
    succeeded(installed, `ark install ${args.join(" ")}`)
    const expected = byId(kustomized.stdout)
    const actual = byId(installed.stdout)
    assert.sameMembers([...actual.keys()], [...expected.keys()])
    for (const [id, object] of expected) assert.deepStrictEqual(actual.get(id), object, id)
    return expected
  })

/** An overlay outside the repository that moves manifests/ to `namespace`, as a user would write one. */
const namespaceOverlay = (namespace: string) => {
  const directory = mkdtempSync(join(tmpdir(), "ark-overlay-"))
  writeFileSync(
    join(directory, "kustomization.yaml"),
    `namespace: ${namespace}\nresources:\n  - ${relative(directory, manifests)}\n`
  )
  return directory
}

/** The server namespace must exist for a server-side dry run of what goes in it; created (and removed) when missing. */
const withServerNamespace = <A, E>(body: Effect.Effect<A, E, KubeClient>) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const created = yield* kube.create(namespaceGvr, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "heptio-ark" }
    }).pipe(
      Effect.as(true),
      Effect.catchTag("KubeAlreadyExists", () => Effect.succeed(false))
    )
    return yield* body.pipe(
      Effect.ensuring(created ? kube.delete(namespaceGvr, "heptio-ark").pipe(Effect.ignore) : Effect.void)
    )
  })

describe("manifests/ on a real API server", () => {
  // --force-conflicts: other tests own the CRDs' fields on this shared cluster; the point is that
  // the API server accepts every object, not who manages which field.
  it.live(
    "kubectl apply --server-side --dry-run=server accepts manifests/ and manifests/restore-only/",
    () =>
      withServerNamespace(Effect.gen(function*() {
        for (const directory of [manifests, join(manifests, "restore-only")]) {
          const run = yield* kubectl(
            "apply",
            "--server-side",
            "--dry-run=server",
            "--force-conflicts",
            "--field-manager=ark-install-test",
            "-k",
            directory
          )
          succeeded(run, `kubectl apply -k ${directory}`)
          assert.include(run.stdout, "deployment.apps/ark serverside-applied (server dry run)")
          assert.include(
            run.stdout,
            "customresourcedefinition.apiextensions.k8s.io/backups.ark.heptio.com serverside-applied (server dry run)"
          )
        }
      })).pipe(Effect.provide(liveKube())),
    300_000
  )

  it.live("ark install --dry-run -o yaml renders what kubectl kustomize renders", () =>
    Effect.gen(function*() {
      const everything = yield* sameAsKustomize(manifests)
      const restoring = yield* sameAsKustomize(join(manifests, "restore-only"), "--restore-only")
      assert.isTrue(everything.has("ClusterRole /ark-backup"))
      assert.isFalse(restoring.has("ClusterRole /ark-backup"))
      const moved = yield* sameAsKustomize(namespaceOverlay("backup-system"), "--namespace", "backup-system")
      assert.isTrue(moved.has("Deployment backup-system/ark"))
    }), 300_000)
})

/**
 * `kubectl auth can-i` as the installed ServiceAccount, asked until it answers `expected`: the API
 * server's RBAC authorizer follows role and binding writes from a cache, a moment later.
 */
const canI = (namespace: string) => (expected: boolean, ...args: ReadonlyArray<string>) =>
  waitFor(
    `can-i ${args.join(" ")} to answer ${expected ? "yes" : "no"}`,
    Effect.map(kubectl("auth", "can-i", ...args, `--as=system:serviceaccount:${namespace}:ark`), (run) => {
      assert.include(["yes", "no"], run.stdout.trim(), run.stderr)
      return run.stdout.trim() === (expected ? "yes" : "no") ? Option.some(true) : Option.none()
    })
  )

const rbac = (resource: string) => ({ group: "rbac.authorization.k8s.io", version: "v1", resource })
const backupRights = [
  [rbac("clusterroles"), "ark-backup", undefined],
  [rbac("clusterrolebindings"), "ark-backup", undefined],
  [rbac("roles"), "ark-backup", "namespace"],
  [rbac("rolebindings"), "ark-backup", "namespace"]
] as const

describe("ark install on a real API server", () => {
  const namespace = `ark-install-${process.pid}`

  /** Removes what the install put outside its namespace too; the CRDs stay (other tests share them). */
  const cleanUp = Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* kube.delete(namespaceGvr, namespace).pipe(Effect.ignore)
    for (const name of ["ark-backup", "ark-restore"]) {
      yield* kube.delete(rbac("clusterrolebindings"), name).pipe(Effect.ignore)
      yield* kube.delete(rbac("clusterroles"), name).pipe(Effect.ignore)
    }
  })

  it.live(
    "installs every object, with the rights the RBAC comments promise; restore-only with fewer",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const { kubeconfig } = yield* environment
        const planned =
          (JSON.parse((yield* ark("install", "--dry-run", "-o", "json", "--namespace", namespace)).stdout) as {
            items: Array<KubeObject>
          }).items

        const installed = yield* ark("install", "--namespace", namespace, "--kubeconfig", kubeconfig)
        succeeded(installed, "ark install")
        const lines = installed.stdout.trim().split("\n")
        assert.lengthOf(lines, planned.length + 1, installed.stdout)
        for (const object of planned) {
          const { gvr } = Option.getOrThrow(resourceOf(object))
          const live = yield* kube.get(gvr, object.metadata.name ?? "", object.metadata.namespace)
          assert.strictEqual(live.metadata.labels?.["component"], "ark", `${object.kind} ${object.metadata.name}`)
        }

        const full = canI(namespace)
        // Backups read everything everywhere; hooks exec.
        yield* full(true, "list", "deployments.apps", "--all-namespaces")
        yield* full(true, "watch", "secrets", "--all-namespaces")
        yield* full(true, "create", "pods", "--subresource=exec", "-n", "default")
        // Restores create and patch anything, and may restore RBAC.
        yield* full(true, "create", "deployments.apps", "-n", "default")
        yield* full(true, "patch", "widgets.example.com", "-n", "default")
        yield* full(true, "escalate", "clusterroles")
        yield* full(true, "bind", "clusterroles")
        // Every write on Ark's kinds, but only in its namespace; no deletes outside them.
        yield* full(true, "create", "schedules.ark.heptio.com", "-n", namespace)
        yield* full(true, "delete", "backups.ark.heptio.com", "-n", namespace)
        yield* full(false, "delete", "backups.ark.heptio.com", "-n", "default")
        yield* full(false, "delete", "deployments.apps", "-n", "default")
        yield* full(false, "delete", "pods", "-n", namespace)
        yield* full(false, "update", "deployments.apps", "-n", "default")
        // Its own Lease and credentials.
        yield* full(true, "update", "leases.coordination.k8s.io/ark-server", "-n", namespace)
        yield* full(false, "update", "leases.coordination.k8s.io/kube-controller-manager", "-n", "kube-system")
        yield* full(true, "get", "secrets/cloud-credentials", "-n", namespace)

        // Switching to restore-only: install never prunes, so the backup rights go first.
        for (const [gvr, name, scope] of backupRights) {
          yield* kube.delete(gvr, name, scope === undefined ? undefined : namespace)
        }
        const restoring = yield* ark("install", "--restore-only", "--namespace", namespace, "--kubeconfig", kubeconfig)
        succeeded(restoring, "ark install --restore-only")
        assert.include(restoring.stdout, `Deployment ${namespace}/ark: configured`)
        for (const [gvr, name, scope] of backupRights) {
          const gone = yield* kube.get(gvr, name, scope === undefined ? undefined : namespace).pipe(Effect.flip)
          assert.strictEqual(gone._tag, "KubeNotFound", `${gvr.resource} ${name}`)
        }
        const deployment =
          (yield* kube.get({ group: "apps", version: "v1", resource: "deployments" }, "ark", namespace)) as any
        assert.include(deployment.spec.template.spec.containers[0].args, "--restore-only")

        const restoreOnly = canI(namespace)
        yield* restoreOnly(true, "get", "deployments.apps", "-n", "default")
        yield* restoreOnly(true, "create", "deployments.apps", "-n", "default")
        yield* restoreOnly(true, "patch", "deployments.apps", "-n", "default")
        yield* restoreOnly(false, "list", "deployments.apps", "--all-namespaces")
        yield* restoreOnly(false, "watch", "pods", "--all-namespaces")
        yield* restoreOnly(false, "delete", "deployments.apps", "-n", "default")
        yield* restoreOnly(true, "list", "backups.ark.heptio.com", "-n", namespace)
        yield* restoreOnly(true, "delete", "backups.ark.heptio.com", "-n", namespace)
        yield* restoreOnly(false, "delete", "restores.ark.heptio.com", "-n", namespace)
        // Restores may create and patch any kind a backup holds (Schedules included), but nothing
        // is updated, and nothing deleted but the Backup resources storage sync prunes and expired
        // DownloadRequests.
        yield* restoreOnly(true, "delete", "downloadrequests.ark.heptio.com", "-n", namespace)
        yield* restoreOnly(true, "patch", "downloadrequests.ark.heptio.com", "--subresource=status", "-n", namespace)
        yield* restoreOnly(false, "delete", "schedules.ark.heptio.com", "-n", namespace)
        yield* restoreOnly(false, "update", "schedules.ark.heptio.com", "-n", namespace)
        yield* restoreOnly(false, "update", "backupstoragelocations.ark.heptio.com", "-n", namespace)
        yield* restoreOnly(false, "delete", "volumesnapshotlocations.ark.heptio.com", "-n", namespace)
        // What manifests/server/rbac.yaml admits: create on everything covers pods/exec as well.
        yield* restoreOnly(true, "create", "pods", "--subresource=exec", "-n", "default")
      }).pipe(Effect.ensuring(cleanUp), Effect.provide(liveKube())),
    // Two installs and some thirty kubectl runs, each seconds on a loaded machine.
    600_000
  )
})

/** A kubeconfig that speaks as the installed ServiceAccount (a TokenRequest token), on the environment's cluster. */
const serviceAccountKubeconfig = (namespace: string) =>
  Effect.gen(function*() {
    const token = yield* kubectl("create", "token", "ark", "-n", namespace, "--duration=1h")
    succeeded(token, "kubectl create token")
    const view = yield* kubectl("config", "view", "--raw", "--minify", "-o", "json")
    succeeded(view, "kubectl config view")
    const { clusters } = JSON.parse(view.stdout) as { clusters: ReadonlyArray<unknown> }
    const file = join(mkdtempSync(join(tmpdir(), "ark-sa-")), "kubeconfig")
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ ...(clusters[0] as object), name: "test" }],
        users: [{ name: "ark", user: { token: token.stdout.trim() } }],
        contexts: [{ name: "ark", context: { cluster: "test", user: "ark", namespace } }],
        "current-context": "ark"
      })
    )
    return file
  })

describe("ark server under the installed ServiceAccount", () => {
  const namespace = `ark-install-sa-${process.pid}`
  const app = `ark-install-app-${process.pid}`
  const restored = `${app}-restored`

  const cleanUp = Effect.gen(function*() {
    const kube = yield* KubeClient
    for (const name of [namespace, app, restored]) yield* kube.delete(namespaceGvr, name).pipe(Effect.ignore)
    for (const name of ["ark-backup", "ark-restore"]) {
      yield* kube.delete(rbac("clusterrolebindings"), name).pipe(Effect.ignore)
      yield* kube.delete(rbac("clusterroles"), name).pipe(Effect.ignore)
    }
  })

  it.live("backs up with the full rights, then restores with the restore-only ones", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      const { kubeconfig } = yield* environment
      const s3 = yield* sharedMinio(`install-${process.pid}`)
      const credentials = join(mkdtempSync(join(tmpdir(), "ark-credentials-")), "cloud")
      writeFileSync(
        credentials,
        `[default]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = ${
          Redacted.value(s3.secretAccessKey)
        }\n`
      )
      const locationFlags = [
        "--provider",
        "aws",
        "--bucket",
        s3.bucket,
        "--prefix",
        s3.prefix,
        "--config",
        `region=${s3.region},s3Url=${s3.url},s3ForcePathStyle=true`,
        "--secret-file",
        credentials
      ]
      succeeded(
        yield* ark("install", "--namespace", namespace, "--kubeconfig", kubeconfig, ...locationFlags),
        "ark install"
      )

      // The server's first requests come before the RBAC authorizer's cache may have every new binding.
      const allowed = canI(namespace)
      yield* allowed(true, "list", "deployments.apps", "--all-namespaces")
      yield* allowed(true, "create", "deployments.apps", "-n", "default")
      yield* allowed(true, "update", "leases.coordination.k8s.io/ark-server", "-n", namespace)
      yield* allowed(true, "create", "schedules.ark.heptio.com", "-n", namespace)

      yield* kube.create(namespaceGvr, { apiVersion: "v1", kind: "Namespace", metadata: { name: app } })
      yield* kube.create({ group: "", version: "v1", resource: "configmaps" }, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "settings", namespace: app },
        data: { colour: "blue" }
      })

      yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* arkServer(yield* serviceAccountKubeconfig(namespace), namespace)
        yield* waitForObject(arkGvr.locations, "default", namespace, "Available", (location) =>
          statusOf(location)["phase"] === "Available")
        yield* kube.create(arkGvr.backups, {
          apiVersion: "ark.heptio.com/v1",
          kind: "Backup",
          metadata: { name: "app", namespace },
          spec: { includedNamespaces: [app], snapshotVolumes: false }
        })
        const backup = yield* waitForObject(arkGvr.backups, "app", namespace, "finished", (object) =>
          ["Completed", "PartiallyFailed", "Failed", "FailedValidation"].includes(String(statusOf(object)["phase"])))
        assert.strictEqual(
          statusOf(backup)["phase"],
          "Completed",
          `${JSON.stringify(statusOf(backup))}\n${server.output()}`
        )
        assert.notInclude(server.output(), "forbidden")
      }))

      // The same namespace as a restore-only server: without the backup rights, with --restore-only,
      // and without the Backup resource, which storage sync must bring back (a migration target).
      for (const [gvr, name, scope] of backupRights) {
        yield* kube.delete(gvr, name, scope === undefined ? undefined : namespace)
      }
      yield* kube.delete(arkGvr.backups, "app", namespace)
      succeeded(
        yield* ark("install", "--restore-only", "--namespace", namespace, "--kubeconfig", kubeconfig, ...locationFlags),
        "ark install --restore-only"
      )

      yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* arkServer(yield* serviceAccountKubeconfig(namespace), namespace, ["--restore-only"])
        yield* waitForObject(arkGvr.backups, "app", namespace, "synced from storage", (object) =>
          statusOf(object)["phase"] === "Completed")
        yield* kube.create(arkGvr.restores, {
          apiVersion: "ark.heptio.com/v1",
          kind: "Restore",
          metadata: { name: "app", namespace },
          spec: { backupName: "app", namespaceMapping: { [app]: restored } }
        })
        const restore = yield* waitForObject(arkGvr.restores, "app", namespace, "finished", (object) =>
          ["Completed", "PartiallyFailed", "Failed", "FailedValidation"].includes(String(statusOf(object)["phase"])))
        assert.strictEqual(
          statusOf(restore)["phase"],
          "Completed",
          `${JSON.stringify(statusOf(restore))}\n${server.output()}`
        )
        const settings = yield* kube.get({ group: "", version: "v1", resource: "configmaps" }, "settings", restored)
        assert.deepStrictEqual(settings["data"], { colour: "blue" })
        assert.notInclude(server.output(), "forbidden")
      }))
    }).pipe(Effect.ensuring(cleanUp), Effect.provide(liveKube())), 300_000)
})
