// Ark's own kubeconfig reader: what each kind of credential turns into on a request, kubectl's merge
// of $KUBECONFIG files, the in-cluster account, and the hand-over to client-node for exec plugins.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, join } from "node:path"

import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

import { inClusterAccess, loadClusterAccess } from "../../layers/kube/live/kubeconfig.ts"

const b64 = (text: string) => Buffer.from(text).toString("base64")

const kubeconfig = (body: Record<string, unknown>) =>
  JSON.stringify({ apiVersion: "v1", kind: "Config", ...body }, null, 2)

const oneContext = (cluster: Record<string, unknown>, user: Record<string, unknown>) =>
  kubeconfig({
    clusters: [{ name: "c", cluster: { server: "https://10.0.0.1:6443", ...cluster } }],
    users: [{ name: "u", user }],
    contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
    "current-context": "ctx"
  })

const scratch = () => mkdtempSync(join(tmpdir(), "ark-kubeconfig-"))

const credentialsOf = (kubeconfigPath: string, context?: string) =>
  Effect.gen(function*() {
    const access = yield* loadClusterAccess({ kubeconfigPath, ...(context === undefined ? {} : { context }) })
    const options = yield* Effect.promise(() => access.credentials())
    return { access, options, authorization: (options.headers as Record<string, string>)["Authorization"] }
  })

/** Runs with $KUBECONFIG (and friends) set, restoring the environment afterwards. */
const withEnv = <A, E>(vars: Record<string, string | undefined>, effect: Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]))
      for (const [key, value] of Object.entries(vars)) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }
      return saved
    }),
    () => effect,
    (saved) =>
      Effect.sync(() => {
        for (const [key, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[key]
          else process.env[key] = value
        }
      })
  )

describe("kubeconfig reader", () => {
  it.effect("inline certificate data and a token become TLS material and a bearer header", () =>
    Effect.gen(function*() {
      const dir = scratch()
      const file = join(dir, "config")
      writeFileSync(
        file,
        oneContext(
          { "certificate-authority-data": b64("CA"), "tls-server-name": "api.internal" },
          { "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY"), token: "t0ken" }
        )
      )
      const { access, authorization, options } = yield* credentialsOf(file)
      assert.strictEqual(access.server, "https://10.0.0.1:6443")
      assert.isFalse(access.proxied)
      assert.strictEqual(String(options.ca), "CA")
      assert.strictEqual(String(options.cert), "CERT")
      assert.strictEqual(String(options.key), "KEY")
      assert.strictEqual(options.servername, "api.internal")
      assert.isUndefined(options.rejectUnauthorized)
      assert.strictEqual(authorization, "Bearer t0ken")
    }))

  it.effect("file paths resolve next to the kubeconfig, and a token file is read again on each refresh", () =>
    Effect.gen(function*() {
      const dir = scratch()
      mkdirSync(join(dir, "pki"))
      writeFileSync(join(dir, "pki", "ca.crt"), "CA-FILE")
      writeFileSync(join(dir, "token"), "first\n")
      const file = join(dir, "config")
      writeFileSync(
        file,
        oneContext({ "certificate-authority": "pki/ca.crt", "insecure-skip-tls-verify": true }, { tokenFile: "token" })
      )
      const { access, authorization, options } = yield* credentialsOf(file)
      assert.strictEqual(String(options.ca), "CA-FILE")
      assert.strictEqual(options.rejectUnauthorized, false)
      assert.strictEqual(authorization, "Bearer first")
      writeFileSync(join(dir, "token"), "rotated\n")
      const again = yield* Effect.promise(() => access.credentials())
      assert.strictEqual((again.headers as Record<string, string>)["Authorization"], "Bearer rotated")
    }))

  it.effect("basic auth, and a context chosen by name", () =>
    Effect.gen(function*() {
      const dir = scratch()
      const file = join(dir, "config")
      writeFileSync(
        file,
        kubeconfig({
          clusters: [
            { name: "a", cluster: { server: "https://a:6443" } },
            { name: "b", cluster: { server: "https://b:6443" } }
          ],
          users: [{ name: "admin", user: { username: "admin", password: "s3cret" } }],
          contexts: [
            { name: "first", context: { cluster: "a", user: "admin" } },
            { name: "second", context: { cluster: "b", user: "admin" } }
          ],
          "current-context": "first"
        })
      )
      const { access, authorization } = yield* credentialsOf(file, "second")
      assert.strictEqual(access.server, "https://b:6443")
      assert.strictEqual(authorization, `Basic ${b64("admin:s3cret")}`)
      const missing = yield* Effect.flip(loadClusterAccess({ kubeconfigPath: file, context: "third" }))
      assert.include(missing.message, "context third not found")
    }))

  it.effect("$KUBECONFIG files merge as kubectl merges them: the first to name an entry wins, missing files are skipped", () =>
    Effect.gen(function*() {
      const dir = scratch()
      writeFileSync(
        join(dir, "one"),
        kubeconfig({
          clusters: [{ name: "c", cluster: { server: "https://from-one:6443" } }],
          contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }]
        })
      )
      writeFileSync(
        join(dir, "two"),
        kubeconfig({
          clusters: [{ name: "c", cluster: { server: "https://from-two:6443" } }],
          users: [{ name: "u", user: { token: "from-two" } }],
          "current-context": "ctx"
        })
      )
      const files = [join(dir, "absent"), join(dir, "one"), join(dir, "two")].join(delimiter)
      const { access, options } = yield* withEnv(
        { KUBECONFIG: files },
        Effect.flatMap(
          loadClusterAccess({}),
          (access) => Effect.map(Effect.promise(() => access.credentials()), (options) => ({ access, options }))
        )
      )
      assert.strictEqual(access.server, "https://from-one:6443")
      assert.strictEqual((options.headers as Record<string, string>)["Authorization"], "Bearer from-two")
    }))

  it.effect("an exec plugin is run through client-node", () =>
    Effect.gen(function*() {
      const dir = scratch()
      const credential = JSON.stringify({
        apiVersion: "client.authentication.k8s.io/v1",
        kind: "ExecCredential",
        status: { token: "from-exec" }
      })
      const file = join(dir, "config")
      writeFileSync(
        file,
        oneContext({}, {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1",
            command: "sh",
            args: ["-c", `echo '${credential}'`],
            interactiveMode: "Never"
          }
        })
      )
      const { access, authorization } = yield* credentialsOf(file)
      assert.strictEqual(access.server, "https://10.0.0.1:6443")
      assert.strictEqual(authorization, "Bearer from-exec")
    }))

  it.effect("in a pod: the service account's CA and token, the token read again on refresh", () =>
    withEnv(
      { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" },
      Effect.gen(function*() {
        const dir = scratch()
        writeFileSync(join(dir, "ca.crt"), "POD-CA")
        writeFileSync(join(dir, "token"), "pod-token")
        const access = inClusterAccess(dir)
        assert.strictEqual(access.server, "https://[fd00::1]:443")
        const options = yield* Effect.promise(() => access.credentials())
        assert.strictEqual(String(options.ca), "POD-CA")
        assert.strictEqual((options.headers as Record<string, string>)["Authorization"], "Bearer pod-token")
      })
    ))

  it.effect("no kubeconfig and no cluster around: one clear error", () =>
    withEnv(
      { KUBECONFIG: join(scratch(), "absent"), KUBERNETES_SERVICE_HOST: undefined, KUBERNETES_SERVICE_PORT: undefined },
      Effect.gen(function*() {
        const error = yield* Effect.flip(loadClusterAccess({}))
        assert.strictEqual(error._tag, "KubeConfigError")
        assert.include(error.message, "pass --kubeconfig FILE or set $KUBECONFIG")
      })
    ))
})
