// `ark install` on the in-memory API server: what it applies and prints, what a dry run prints,
// bad flags failing before anything is applied, and the credentials never reaching a log line.
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import type { Console } from "effect"
import { Effect, Either, Layer, Logger, LogLevel, Option } from "effect"
import { CORE_SCHEMA, loadAll } from "js-yaml"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient, KubeForbidden } from "../../services/KubeClient.ts"
import { CliError } from "../../src/cli/errors.ts"
import type { InstallArgs } from "../../src/install/install.ts"
import { install } from "../../src/install/install.ts"
import { planInstall } from "../../src/install/plan.ts"
import { resourceOf } from "../../src/install/resources.ts"

const platform = Layer.merge(NodeFileSystem.layer, NodePath.layer)

const secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
const credentials = `[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = ${secretKey}\n`
const credentialsFile = () => {
  const file = join(mkdtempSync(join(tmpdir(), "ark-install-")), "credentials")
  writeFileSync(file, credentials)
  return file
}

const defaults: InstallArgs = {
  namespace: "heptio-ark",
  restoreOnly: false,
  image: Option.none(),
  provider: Option.none(),
  bucket: Option.none(),
  prefix: Option.none(),
  config: [],
  secretFile: Option.none(),
  dryRun: false,
  output: Option.none()
}

/** Runs install against a fresh fake cluster; everything printed and logged is kept. */
const runInstall = (
  overrides: Partial<InstallArgs>,
  cluster?: { client: KubeClient.Shape; control: MemoryKube.MemoryKubeControl }
) =>
  Effect.gen(function*() {
    const { client, control } = cluster ?? (yield* MemoryKube.make)
    const stdout: Array<string> = []
    const logs: Array<string> = []
    const base = yield* Effect.console
    const console: Console.Console = {
      ...base,
      log: (...args) => Effect.sync(() => void stdout.push(...args.map(String).join(" ").split("\n"))),
      error: (...args) => Effect.sync(() => void stdout.push(...args.map(String).join(" ").split("\n")))
    }
    const logger = Logger.replace(Logger.defaultLogger, Logger.map(Logger.logfmtLogger, (line) => void logs.push(line)))
    const exit = yield* install({ ...defaults, ...overrides }, Layer.succeed(KubeClient, client)).pipe(
      Effect.either,
      Effect.withConsole(console),
      Effect.provide(Layer.mergeAll(platform, logger, Logger.minimumLogLevel(LogLevel.All)))
    )
    return { exit, stdout, logs, kube: client, control }
  })

const plan = (overrides: Partial<InstallArgs>) =>
  planInstall({ ...defaults, ...overrides }).pipe(Effect.provide(platform))

const gvrOf = (object: KubeObject) => Option.getOrThrow(resourceOf(object)).gvr

const describeLine = (object: KubeObject) =>
  object.metadata.namespace === undefined
    ? `${object.kind} ${object.metadata.name}`
    : `${object.kind} ${object.metadata.namespace}/${object.metadata.name}`

describe("ark install", () => {
  it.effect("applies every object, CRDs first and the Deployment last, one line each", () =>
    Effect.gen(function*() {
      const planned = yield* plan({})
      const run = yield* runInstall({})
      assert.isTrue(Either.isRight(run.exit), String(Either.getLeft(run.exit)))
      assert.deepStrictEqual(run.stdout.slice(0, -1), planned.map((object) => `${describeLine(object)}: created`))
      assert.include(run.stdout.at(-1), "Ark is installed in namespace heptio-ark")
      assert.strictEqual(planned[0]?.kind, "CustomResourceDefinition")
      assert.strictEqual(planned.at(-1)?.kind, "Deployment")
      for (const object of planned) {
        const live = yield* run.kube.get(gvrOf(object), object.metadata.name ?? "", object.metadata.namespace)
        assert.strictEqual(live.kind, object.kind)
      }
    }))

  it.effect("a second install replaces what exists: --image and --restore-only take effect", () =>
    Effect.gen(function*() {
      const first = yield* runInstall({})
      const second = yield* runInstall({ image: Option.some("registry.example.com/ark:9.9.9"), restoreOnly: true }, {
        client: first.kube,
        control: first.control
      })
      assert.isTrue(Either.isRight(second.exit), String(Either.getLeft(second.exit)))
      assert.include(second.stdout, "Deployment heptio-ark/ark: configured")
      assert.include(second.stdout, "CustomResourceDefinition backups.ark.heptio.com: configured")
      const deployment =
        (yield* second.kube.get({ group: "apps", version: "v1", resource: "deployments" }, "ark", "heptio-ark")) as any
      const [container] = deployment.spec.template.spec.containers
      assert.strictEqual(container.image, "registry.example.com/ark:9.9.9")
      assert.include(container.args, "--restore-only")
    }))

  it.effect("--namespace moves everything, bindings included", () =>
    Effect.gen(function*() {
      const planned = yield* plan({
        namespace: "backup-system",
        provider: Option.some("aws"),
        bucket: Option.some("b"),
        secretFile: Option.some(credentialsFile())
      })
      assert.notInclude(JSON.stringify(planned), "heptio-ark")
      assert.include(planned.map(describeLine), "Namespace backup-system")
      assert.include(planned.map(describeLine), "BackupStorageLocation backup-system/default")
      assert.include(planned.map(describeLine), "Secret backup-system/cloud-credentials")
      const run = yield* runInstall({ namespace: "backup-system" })
      assert.isTrue(Either.isRight(run.exit))
      yield* run.kube.get({ group: "apps", version: "v1", resource: "deployments" }, "ark", "backup-system")
    }))

  it.effect("--bucket adds the location 'default' and --secret-file the Secret cloud-credentials, whose content is never printed or logged", () =>
    Effect.gen(function*() {
      const run = yield* runInstall({
        provider: Option.some("aws"),
        bucket: Option.some("ark-backups"),
        prefix: Option.some("/cluster-a/"),
        config: ["region=eu-west-1,s3ForcePathStyle=true", "s3Url=http://minio:9000"],
        secretFile: Option.some(credentialsFile())
      })
      assert.isTrue(Either.isRight(run.exit), String(Either.getLeft(run.exit)))
      const location = yield* run.kube.get(
        { group: "ark.heptio.com", version: "v1", resource: "backupstoragelocations" },
        "default",
        "heptio-ark"
      )
      assert.deepStrictEqual(location["spec"], {
        provider: "aws",
        objectStorage: { bucket: "ark-backups", prefix: "cluster-a" },
        config: { region: "eu-west-1", s3ForcePathStyle: "true", s3Url: "http://minio:9000" },
        accessMode: "ReadWrite",
        default: true
      })
      const secret = yield* run.kube.get(
        { group: "", version: "v1", resource: "secrets" },
        "cloud-credentials",
        "heptio-ark"
      )
      assert.deepStrictEqual(secret["data"], { cloud: Buffer.from(credentials).toString("base64") })
      assert.include(run.stdout, "Secret heptio-ark/cloud-credentials: created")
      const everything = [...run.stdout, ...run.logs].join("\n")
      assert.notInclude(everything, secretKey)
      assert.notInclude(everything, Buffer.from(credentials).toString("base64"))
    }))

  it.effect("a dry run applies nothing and lists the objects without the Secret's content", () =>
    Effect.gen(function*() {
      const run = yield* runInstall({ dryRun: true, secretFile: Option.some(credentialsFile()) })
      assert.isTrue(Either.isRight(run.exit))
      assert.include(run.stdout, "Secret heptio-ark/cloud-credentials (content not shown)")
      assert.include(run.stdout, "Deployment heptio-ark/ark")
      assert.include(run.stdout.at(-1), "nothing was applied")
      const everything = [...run.stdout, ...run.logs].join("\n")
      assert.notInclude(everything, secretKey)
      assert.notInclude(everything, Buffer.from(credentials).toString("base64"))
      const namespaces = yield* run.kube.get({ group: "", version: "v1", resource: "namespaces" }, "heptio-ark").pipe(
        Effect.flip
      )
      assert.strictEqual(namespaces._tag, "KubeNotFound")
    }))

  it.effect("--dry-run -o yaml prints the planned objects as documents for kubectl apply -f -, Secret included", () =>
    Effect.gen(function*() {
      const file = credentialsFile()
      const planned = yield* plan({
        secretFile: Option.some(file),
        provider: Option.some("aws"),
        bucket: Option.some("b")
      })
      const run = yield* runInstall({
        dryRun: true,
        output: Option.some("yaml"),
        secretFile: Option.some(file),
        provider: Option.some("aws"),
        bucket: Option.some("b")
      })
      assert.isTrue(Either.isRight(run.exit))
      assert.deepStrictEqual(loadAll(run.stdout.join("\n"), { schema: CORE_SCHEMA }), [...planned])
      assert.notInclude(run.logs.join("\n"), Buffer.from(credentials).toString("base64"))

      const json = yield* runInstall({ dryRun: true, output: Option.some("json") })
      assert.deepStrictEqual(JSON.parse(json.stdout.join("\n")), {
        apiVersion: "v1",
        kind: "List",
        items: yield* plan({})
      })
    }))

  const badInput: ReadonlyArray<readonly [string, Partial<InstallArgs>, string]> = [
    ["an unknown provider", { provider: Option.some("gcp"), bucket: Option.some("b") }, "unknown provider \"gcp\""],
    ["--bucket without --provider", { bucket: Option.some("b") }, "--bucket needs --provider"],
    ["--provider without --bucket", { provider: Option.some("aws") }, "--provider needs --bucket"],
    [
      "--config that is not key=value",
      { provider: Option.some("aws"), bucket: Option.some("b"), config: ["region"] },
      "\"region\" is not key=value"
    ],
    ["--config with a key twice", {
      provider: Option.some("aws"),
      bucket: Option.some("b"),
      config: ["region=a,region=b"]
    }, "region is given twice"],
    ["--config the provider does not know", {
      provider: Option.some("aws"),
      bucket: Option.some("b"),
      config: ["path=/x"]
    }, "path is not a setting of provider aws"],
    [
      "filesystem without a path",
      { provider: Option.some("filesystem"), bucket: Option.some("b") },
      "provider filesystem needs --config path=DIR"
    ],
    ["--prefix without --bucket", { prefix: Option.some("p") }, "they need --bucket"],
    [
      "an unreadable secret file",
      { secretFile: Option.some("/nonexistent/credentials") },
      "cannot read --secret-file /nonexistent/credentials: no such file"
    ],
    [
      "a secret file that is not AWS credentials",
      { secretFile: Option.some(fileURLToPath(import.meta.url)) },
      "is not an AWS shared-credentials file"
    ],
    ["a bad namespace", { namespace: "Ark_NS" }, "invalid namespace \"Ark_NS\""],
    ["-o without --dry-run", { output: Option.some("yaml") }, "it needs --dry-run"]
  ]

  for (const [what, flags, message] of badInput) {
    it.effect(`${what}: one line and a hint, nothing applied`, () =>
      Effect.gen(function*() {
        const run = yield* runInstall(flags)
        const error = Either.getLeft(run.exit).pipe(Option.getOrThrow)
        assert.instanceOf(error, CliError)
        assert.include(error.message, message)
        assert.notInclude(error.message, "\n")
        assert.deepStrictEqual(run.stdout, [])
        const crds = yield* run.kube.get({
          group: "apiextensions.k8s.io",
          version: "v1",
          resource: "customresourcedefinitions"
        }, "backups.ark.heptio.com").pipe(Effect.flip)
        assert.strictEqual(crds._tag, "KubeNotFound")
      }))
  }

  it.effect("a refusal by the API server stops the install with a hint about rights", () =>
    Effect.gen(function*() {
      const cluster = yield* MemoryKube.make
      yield* cluster.control.failNext(
        "create",
        new KubeForbidden({ resource: "customresourcedefinitions", message: "forbidden: no rights" })
      )
      const run = yield* runInstall({}, cluster)
      const error = Either.getLeft(run.exit).pipe(Option.getOrThrow)
      assert.instanceOf(error, CliError)
      assert.strictEqual(
        error.message,
        "cannot apply CustomResourceDefinition backups.ark.heptio.com: forbidden: no rights"
      )
      assert.include(error.hint, "cluster-admin")
      assert.deepStrictEqual(run.stdout, [])
    }))
})
