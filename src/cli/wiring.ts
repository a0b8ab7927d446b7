// The one place the CLI's commands get their live services: a KubeClient from --kubeconfig (else
// $KUBECONFIG, ~/.kube/config) and the providers that open storage and snapshot locations with it.
import { Command } from "@effect/cli"
import { Layer, Option } from "effect"

import * as BlockStoreProviderLive from "../../layers/blockstore/Provider.ts"
import * as KubeLive from "../../layers/kube/Live.ts"
import * as ObjectStoreProviderLive from "../../layers/objectstore/Provider.ts"

/** The parsed `connection` flags of `options.ts`. */
export interface Connection {
  readonly kubeconfig: Option.Option<string>
}

export const clusterLayer = (connection: Connection) => {
  // Read at the first request: a command reports bad flags before a missing kubeconfig.
  const kube = KubeLive.layerOnFirstUse(
    Option.match(connection.kubeconfig, { onNone: () => ({}), onSome: (kubeconfigPath) => ({ kubeconfigPath }) })
  )
  return Layer.provideMerge(Layer.merge(ObjectStoreProviderLive.layer, BlockStoreProviderLive.layer), kube)
}

/** Gives a command's handler the live cluster services named by its own --kubeconfig flag. */
export const withCluster = <Name extends string, R, E, A extends Connection>(command: Command.Command<Name, R, E, A>) =>
  Command.provide(command, (config: A) => clusterLayer(config))

/**
 * The KubeClient completion lists names with: no retries and a short request deadline, since a
 * shell waits for it; a missing kubeconfig fails the lookup, which completion turns into no names.
 */
export const completionLookupLayer = (kubeconfigPath: string | undefined) =>
  KubeLive.layer({
    ...(kubeconfigPath === undefined ? {} : { kubeconfigPath }),
    requestTimeout: "3 seconds",
    readRetries: 0
  })
