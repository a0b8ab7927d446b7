// A deleted namespace keeps the control plane busy while the namespace controller deletes its
// objects (10k of them after a restore benchmark). Each measurement first waits until no namespace
// is Terminating, so an earlier run's cleanup does not slow it.
import { Config, Effect, Layer, Option, Stream } from "effect"

import * as KubeLive from "../layers/kube/Live.ts"
import { KubeClient } from "../services/KubeClient.ts"
import { waitFor } from "../test/support/wait.ts"

const terminating = Effect.flatMap(
  KubeClient,
  (kube) =>
    kube.listPages({ group: "", version: "v1", resource: "namespaces" }, { limit: 500 }).pipe(
      Stream.runFold(0, (count, page) =>
        count +
        page.items.filter((namespace) =>
          (namespace["status"] as { phase?: string } | undefined)?.phase === "Terminating"
        ).length)
    )
)

export const untilQuiet = Effect.gen(function*() {
  const pending = yield* terminating
  if (pending === 0) return
  console.error(`waiting for ${pending} terminating namespace(s) to go before measuring`)
  yield* waitFor(
    "no terminating namespaces",
    terminating.pipe(Effect.map((count) => (count === 0 ? Option.some(count) : Option.none()))),
    "15 minutes"
  )
}).pipe(
  Effect.provide(
    Layer.unwrapEffect(
      Config.string("KUBECONFIG").pipe(Effect.map((kubeconfigPath) => KubeLive.layer({ kubeconfigPath })))
    )
  ),
  Effect.orDie
)
