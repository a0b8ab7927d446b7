// The KubeClient contract against the real kube-apiserver of the test environment: the same
// suite the Memory layer passes in unit tests, so the fake cannot drift from the server.
import { execFile } from "node:child_process"
import { randomBytes } from "node:crypto"
import { promisify } from "node:util"

import { Config, Data, Effect } from "effect"

import { kubeClientContract } from "../contract/kubeClient.ts"
import { liveKube } from "./live.ts"

class EtcdctlError extends Data.TaggedError("EtcdctlError")<{ readonly message: string }> {}

const etcdctl = (...args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const bin = yield* Config.string("ARK_TEST_BIN")
    const endpoint = yield* Config.string("ARK_TEST_ETCD_URL")
    const { stdout } = yield* Effect.tryPromise({
      // Seconds as a rule, much longer on a loaded 2-core machine; a hang still ends.
      try: () => promisify(execFile)(`${bin}/etcdctl`, [`--endpoints=${endpoint}`, ...args], { timeout: 120_000 }),
      catch: (cause) => new EtcdctlError({ message: `etcdctl ${args.join(" ")}: ${String(cause)}` })
    })
    return stdout
  })

/** Compacts etcd at its current revision, as its periodic compaction would. */
const compactEtcd = Effect.gen(function*() {
  const status = JSON.parse(yield* etcdctl("endpoint", "status", "-w", "json")) as Array<
    { Status: { header: { revision: number } } }
  >
  const revision = status[0]?.Status.header.revision
  if (revision === undefined) return yield* new EtcdctlError({ message: "etcdctl endpoint status: no revision" })
  yield* etcdctl("compact", String(revision))
})

const run = randomBytes(3).toString("hex")
let namespaces = 0

kubeClientContract("Live (real kube-apiserver)", {
  layer: liveKube(),
  compact: compactEtcd,
  uniqueNamespace: () => `contract-${run}-${++namespaces}`
})
