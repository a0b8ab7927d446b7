// What a client can learn about the running server without talking to it: the leader holds the
// Lease ark-server in its namespace and writes its version on it with every renewal (leader.ts),
// so a lease renewed within its duration names a live server and its version. Velero answers a
// ServerStatusRequest instead; the lease needs no new resource, no controller and no new rights.
import { DateTime, Duration, Effect, Option } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { leasesGvr } from "./leader.ts"

/** One Lease per server namespace: replicas of one server elect one leader among themselves. */
export const leaseName = "ark-server"

export const serverVersionAnnotation = "ark.heptio.com/server-version"

export type ServerStatus =
  | { readonly _tag: "Running"; readonly version: Option.Option<string>; readonly holder: string }
  | { readonly _tag: "Stopped"; readonly version: Option.Option<string> }
  | { readonly _tag: "NeverRan" }

interface LeaseSpec {
  readonly holderIdentity?: string
  readonly leaseDurationSeconds?: number
  readonly renewTime?: string
}

/** Running when the lease has a holder that renewed it within its duration (by this machine's clock). */
export const statusOfLease = (lease: KubeObject, now: DateTime.Utc): ServerStatus => {
  const spec = (lease["spec"] as LeaseSpec | undefined) ?? {}
  const version = Option.fromNullable(lease.metadata.annotations?.[serverVersionAnnotation])
  const renewed = Option.flatMap(Option.fromNullable(spec.renewTime), (time) => DateTime.make(time))
  const live = (spec.holderIdentity ?? "") !== "" && Option.match(renewed, {
    onNone: () => false,
    onSome: (time) =>
      DateTime.lessThan(now, DateTime.addDuration(time, Duration.seconds(spec.leaseDurationSeconds ?? 15)))
  })
  return live ? { _tag: "Running", version, holder: spec.holderIdentity ?? "" } : { _tag: "Stopped", version }
}

export const readServerStatus = Effect.fn("Server.readStatus")(function*(namespace: string) {
  const kube = yield* KubeClient
  const lease = yield* kube.get(leasesGvr, leaseName, namespace).pipe(
    Effect.map(Option.some),
    Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.none<KubeObject>()))
  )
  if (Option.isNone(lease)) return { _tag: "NeverRan" } as ServerStatus
  return statusOfLease(lease.value, yield* DateTime.now)
})
