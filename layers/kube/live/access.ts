// How the transport reaches the API server: its URL and, per request, the TLS material and headers.
// Ark's own kubeconfig reader (kubeconfig.ts) serves certificates, tokens and the in-cluster service
// account; client-node's KubeConfig serves the rest (exec plugins, auth providers, proxies) and is
// loaded only then, because importing it costs ~60 MiB and ~0.3 s at every start.
import type * as https from "node:https"

import type { KubeConfig } from "@kubernetes/client-node"

export interface ClusterAccess {
  readonly server: string
  /** TLS material and headers for a request, read afresh (the transport caches them for a while). */
  readonly credentials: () => Promise<https.RequestOptions>
  /** Requests go through a proxy: keep the agent the loader built for it. */
  readonly proxied: boolean
}

/** Access through an already loaded client-node KubeConfig (the caller imported client-node). */
export const fromKubeConfig = (kc: KubeConfig, server: string): ClusterAccess => ({
  server,
  credentials: async () => {
    const options: https.RequestOptions = { headers: {} }
    await kc.applyToHTTPSOptions(options)
    return options
  },
  proxied: kc.getCurrentCluster()?.proxyUrl !== undefined
})
