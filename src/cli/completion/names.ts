// The names of Ark's resources that exist in the cluster, for completing NAME arguments and flags
// such as --from-backup. Completion must never hang a shell or print errors into it: an unreachable
// or slow cluster yields no names.
import { Duration, Effect, Stream } from "effect"

import { KubeClient } from "../../../services/KubeClient.ts"
import { group, version } from "../../api/group.ts"
import type { ResourcePlural } from "./candidates.ts"

/** How long a completion may wait for the cluster; a shell blocks while it does. */
const lookupDeadline = Duration.seconds(3)

export const resourceNames = (resource: ResourcePlural, namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const pages = yield* Stream.runCollect(kube.listPages({ group, version, resource }, { namespace, limit: 500 }))
    return [...pages].flatMap((page) => page.items.map((item) => item.metadata.name ?? "")).filter((name) =>
      name !== ""
    ).sort()
  })

/** No names, rather than an error or a wait, when the cluster cannot answer within the deadline. */
export const quietly = <E, R>(lookup: Effect.Effect<ReadonlyArray<string>, E, R>) =>
  lookup.pipe(
    Effect.timeoutFail({ duration: lookupDeadline, onTimeout: () => "timed out" as const }),
    Effect.orElseSucceed((): ReadonlyArray<string> => [])
  )
