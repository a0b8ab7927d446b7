// Ark's server with one more restore rule, added without forking Ark: every image pulled from
// Docker Hub is restored from a mirror instead, as a migration into an air-gapped cluster needs.
// Run it in place of `ark server`, with the same kubeconfig and server namespace:
//
//   node registry-rewrite.ts [NAMESPACE] [MIRROR]     (defaults: heptio-ark, mirror.example.com)
//
// It registers a RestoreItemAction; Ark runs it after its own rules on each selected item.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { runServer } from "ark"
import type { KubeObject, RestoreItemAction } from "ark/services"
import { RestoreItemActions } from "ark/services"
import { Effect, Option } from "effect"

const namespace = process.argv[2] ?? "heptio-ark"
const mirror = process.argv[3] ?? "mirror.example.com"

/** `nginx:1.27` and `docker.io/library/nginx:1.27` → `MIRROR/library/nginx:1.27`; other registries are kept. */
const mirrored = (image: string): string => {
  const parts = image.split("/")
  const first = parts[0] ?? ""
  const hasRegistry = parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost")
  if (hasRegistry && first !== "docker.io") return image
  const path = hasRegistry ? parts.slice(1) : parts
  return [mirror, ...(path.length === 1 ? ["library"] : []), ...path].join("/")
}

type Json = Record<string, unknown>

const isJson = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)

/** The pod spec inside each workload kind. */
const podSpecPath: Record<string, ReadonlyArray<string>> = {
  pods: ["spec"],
  "deployments.apps": ["spec", "template", "spec"],
  "statefulsets.apps": ["spec", "template", "spec"],
  "daemonsets.apps": ["spec", "template", "spec"],
  "replicasets.apps": ["spec", "template", "spec"],
  "jobs.batch": ["spec", "template", "spec"],
  "cronjobs.batch": ["spec", "jobTemplate", "spec", "template", "spec"]
}

const withPodSpec = (object: Json, path: ReadonlyArray<string>, edit: (spec: Json) => Json): Json => {
  const [key, ...rest] = path
  if (key === undefined) return edit(object)
  const inner = object[key]
  return isJson(inner) ? { ...object, [key]: withPodSpec(inner, rest, edit) } : object
}

const rewriteContainers = (spec: Json): Json => {
  const copy = { ...spec }
  for (const field of ["containers", "initContainers", "ephemeralContainers"]) {
    const containers = copy[field]
    if (!Array.isArray(containers)) continue
    copy[field] = containers.map((container: unknown) =>
      isJson(container) && typeof container["image"] === "string"
        ? { ...container, image: mirrored(container["image"]) }
        : container
    )
  }
  return copy
}

const registryRewrite: RestoreItemAction = {
  name: "example.com/registry-rewrite",
  appliesTo: { resources: Object.keys(podSpecPath) },
  execute: ({ groupResource, item }) =>
    Effect.succeed({
      _tag: "Restore",
      item: withPodSpec(item, podSpecPath[groupResource] ?? [], rewriteContainers) as KubeObject
    })
}

runServer({
  kubeconfig: Option.fromNullable(process.env["KUBECONFIG"]),
  namespace,
  restoreOnly: false,
  backupConcurrency: 1,
  locationValidationPeriod: "1 minute",
  metricsAddress: "127.0.0.1:0",
  logFormat: "json",
  logLevel: "info"
}).pipe(
  Effect.provideService(RestoreItemActions, [registryRewrite]),
  NodeRuntime.runMain
)
