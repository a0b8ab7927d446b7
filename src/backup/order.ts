// Velero's orderedResources: for a resource, the objects written first into the tarball, in the
// given order, ahead of the rest of that resource. `pods=ns1/a,ns1/b;persistentvolumes=pv1` on the
// command line; in the spec, a map from the resource name to `namespace/name,...` (name alone
// for a cluster-scoped resource).
import { Either } from "effect"

import type { ApiResource, KubeObject } from "../../services/KubeClient.ts"
import { groupResource } from "../archive/layout.ts"
import { resolveResource } from "./resources.ts"

/** The flag's text as the spec's map; Left: what is wrong with it, in one line. */
export const parseOrderedResources = (text: string): Either.Either<Readonly<Record<string, string>>, string> => {
  const orders: Record<string, string> = {}
  for (const entry of text.split(";").map((part) => part.trim()).filter((part) => part !== "")) {
    const parts = entry.split("=")
    const resource = (parts[0] ?? "").trim()
    const names = (parts[1] ?? "").split(",").map((name) => name.trim())
    if (parts.length !== 2 || resource === "") return Either.left(`"${entry}" is not resource=names`)
    if (names.some((name) => name === "")) return Either.left(`"${entry}" names no object, or has an empty one`)
    const bad = names.find((name) => name.split("/").length > 2)
    if (bad !== undefined) return Either.left(`"${bad}" in "${entry}" is not namespace/name or name`)
    if (Object.hasOwn(orders, resource)) return Either.left(`resource "${resource}" is given twice`)
    orders[resource] = names.join(",")
  }
  if (Object.keys(orders).length === 0) return Either.left("it names no resource")
  return Either.right(orders)
}

/** The objects an order names, as written: `ns/name` or `name`. */
export const orderedNames = (names: string): ReadonlyArray<string> =>
  names.split(",").map((name) => name.trim()).filter((name) => name !== "")

/** What identifies an object in an order: `namespace/name`, or `name` when cluster-scoped. */
export const orderKey = (object: KubeObject): string =>
  object.metadata.namespace === undefined || object.metadata.namespace === ""
    ? object.metadata.name ?? ""
    : `${object.metadata.namespace}/${object.metadata.name ?? ""}`

export interface ResolvedOrders {
  /** By group-resource (`pods`, `deployments.apps`): the names, first to last. */
  readonly orders: ReadonlyMap<string, ReadonlyArray<string>>
  readonly problems: ReadonlyArray<string>
}

/** The spec's orders against discovery: each resource must exist, once, and its names fit its scope. */
export const resolveOrders = (
  orderedResources: Readonly<Record<string, string>> | undefined,
  resources: ReadonlyArray<ApiResource>
): ResolvedOrders => {
  const orders = new Map<string, ReadonlyArray<string>>()
  const problems: Array<string> = []
  for (const [name, value] of Object.entries(orderedResources ?? {})) {
    const resource = resolveResource(name, resources)
    if (resource === undefined) {
      problems.push(`orderedResources: unknown resource "${name}"`)
      continue
    }
    const key = groupResource(resource)
    if (orders.has(key)) {
      problems.push(`orderedResources: "${name}" names ${key}, which another entry names too`)
      continue
    }
    const names = orderedNames(value)
    const misfit = names.find((entry) => entry.includes("/") !== resource.namespaced)
    if (names.length === 0) problems.push(`orderedResources: "${name}" names no object`)
    else if (misfit !== undefined) {
      problems.push(
        `orderedResources: "${misfit}" of ${key} must be ${resource.namespaced ? "namespace/name" : "a name alone"}` +
          ` (${key} is ${resource.namespaced ? "namespaced" : "cluster-scoped"})`
      )
    } else orders.set(key, names)
  }
  return { orders, problems }
}
