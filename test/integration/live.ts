// Layers over the real components that test/testenv started; the env names them.
import { Config, Effect, Layer } from "effect"

import * as KubeLive from "../../layers/kube/Live.ts"

/** A KubeClient on the environment's first cluster (or `KUBECONFIG_<n>`). Fails, never skips, without one. */
export const liveKube = (cluster = 1) =>
  Layer.unwrapEffect(
    Config.string(cluster === 1 ? "KUBECONFIG" : `KUBECONFIG_${cluster}`).pipe(
      Effect.orDieWith(
        (error) => new Error(`integration tests need the test environment (test/testenv/globalSetup.ts): ${error}`)
      ),
      Effect.map((kubeconfigPath) => KubeLive.layer({ kubeconfigPath }).pipe(Layer.orDie))
    )
  )
