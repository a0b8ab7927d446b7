// The one place the CLI's commands get their live services: a KubeClient from --kubeconfig (else
// $KUBECONFIG, ~/.kube/config) and the providers that open storage and snapshot locations with it.
import { Command } from "@effect/cli"
import { Effect, Layer, Option } from "effect"

/** The parsed `connection` flags of `options.ts`. */
export interface Connection {
  readonly kubeconfig: Option.Option<string>
}

/** Loaded when a command runs, not when `ark` starts (src/cli/lazy.ts). */
const loadLayers = Effect.promise(() =>
  Promise.all([
    import("../../layers/kube/Live.ts"),
    import("../../layers/objectstore/Provider.ts"),
    import("../../layers/blockstore/Provider.ts")
  ])
)

export const clusterLayer = (connection: Connection) =>
  Layer.unwrapEffect(
    Effect.map(loadLayers, ([KubeLive, ObjectStoreProviderLive, BlockStoreProviderLive]) => {
      // Read at the first request: a command reports bad flags before a missing kubeconfig.
      const kube = KubeLive.layerOnFirstUse(
        Option.match(connection.kubeconfig, { onNone: () => ({}), onSome: (kubeconfigPath) => ({ kubeconfigPath }) })
      )
      return Layer.provideMerge(Layer.merge(ObjectStoreProviderLive.layer, BlockStoreProviderLive.layer), kube)
    })
  )

/** Gives a command's handler the live cluster services named by its own --kubeconfig flag. */
export const withCluster = <Name extends string, R, E, A extends Connection>(command: Command.Command<Name, R, E, A>) =>
  Command.provide(command, (config: A) => clusterLayer(config))

/**
 * The KubeClient completion lists names with: no retries and a short request deadline, since a
 * shell waits for it; a missing kubeconfig fails the lookup, which completion turns into no names.
 */
export const completionLookupLayer = (kubeconfigPath: string | undefined) =>
  Layer.unwrapEffect(
    Effect.map(Effect.promise(() => import("../../layers/kube/Live.ts")), (KubeLive) =>
      KubeLive.layer({
        ...(kubeconfigPath === undefined ? {} : { kubeconfigPath }),
        requestTimeout: "3 seconds",
        readRetries: 0
      }))
  )
