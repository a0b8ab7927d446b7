// `--include-resources` / `--exclude-resources` checked against the cluster's discovery before a
// Backup or Schedule is created: the server would only fail it at validation, after the fact.
import { Effect } from "effect"

import { KubeClient } from "../../../services/KubeClient.ts"
import { resolveOrders } from "../../backup/order.ts"
import { selectResources } from "../../backup/resources.ts"
import { CliError } from "../errors.ts"
import { kubeFailure } from "./kube.ts"
import type { BackupFlags } from "./spec.ts"

const flagOf = { includedResources: "--include-resources", excludedResources: "--exclude-resources" } as const

/**
 * Every resource name the flags give must name a resource the API server serves: a plural,
 * singular, short name or kind, optionally `.<group>`, as the server itself resolves them.
 */
export const checkResourcesExist = (
  flags: Pick<BackupFlags, "includeResources" | "excludeResources"> & {
    readonly orderedResources?: Readonly<Record<string, string>> | undefined
  },
  namespace: string
) =>
  Effect.gen(function*() {
    const orders = flags.orderedResources
    if (flags.includeResources.length === 0 && flags.excludeResources.length === 0 && orders === undefined) return
    const kube = yield* KubeClient
    const discovery = yield* kube.discover.pipe(
      Effect.mapError((error) => kubeFailure("cannot list the cluster's resource types", namespace)(error))
    )
    const [orderProblem] = resolveOrders(orders, discovery.resources).problems
    if (orderProblem !== undefined) {
      return yield* new CliError({
        message: `--ordered-resources: ${orderProblem.replace("orderedResources: ", "")}; nothing was created`,
        hint: "name each resource as `kubectl api-resources` does, with namespace/name entries for namespaced ones"
      })
    }
    const { unknown } = selectResources(flags.includeResources, flags.excludeResources, discovery.resources)
    const first = unknown[0]
    if (first === undefined) return
    const failed = discovery.failedGroups.map(({ groupVersion }) => groupVersion)
    return yield* new CliError({
      message: `${flagOf[first.field]}: the cluster has no resource "${first.name}"` +
        (unknown.length > 1 ? ` (nor ${unknown.slice(1).map(({ name }) => `"${name}"`).join(", ")})` : "") +
        "; nothing was created",
      hint: "`kubectl api-resources` lists the names, short names and kinds it accepts; " +
        "qualify a name with its group as in deployments.apps" +
        (failed.length > 0 ? ` (discovery of ${failed.join(", ")} failed)` : "")
    })
  })
