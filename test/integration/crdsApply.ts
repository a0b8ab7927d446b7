// Installs Ark's generated CRDs (manifests/crds) on a real API server and waits until each is
// served: what every integration test that reads or writes Ark's resources needs first.
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

import { loadAllYaml } from "@kubernetes/client-node"
import { Effect, Option, Stream } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { waitFor } from "../support/wait.ts"

const crdDir = fileURLToPath(new URL("../../manifests/crds/", import.meta.url))
export const crdGvr = { group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions" }
export const namespaceGvr = { group: "", version: "v1", resource: "namespaces" }

export const crdManifests = (): ReadonlyArray<KubeObject> =>
  readdirSync(crdDir)
    .filter((file) => file.endsWith(".ark.heptio.com.yaml"))
    .flatMap((file) => loadAllYaml(readFileSync(crdDir + file, "utf8")) as Array<KubeObject>)

const isEstablished = (crd: KubeObject) => {
  const conditions = (crd["status"] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions
  return conditions?.some((condition) => condition.type === "Established" && condition.status === "True") === true
}

interface CrdSpec {
  readonly group: string
  readonly names: { readonly plural: string }
  readonly versions: ReadonlyArray<{ readonly name: string; readonly storage?: boolean }>
}

/**
 * Whether the CRD's resource is in discovery and answers a list: both lag its Established
 * condition, by longer on a busy machine, and a create before then is a 404.
 */
const served = (crd: KubeObject) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const spec = crd["spec"] as CrdSpec
    const resource = {
      group: spec.group,
      version: spec.versions.find((version) => version.storage === true)?.name ?? spec.versions[0]?.name ?? "",
      resource: spec.names.plural
    }
    const discovery = yield* kube.discover
    if (!discovery.resources.some((r) => r.group === resource.group && r.resource === resource.resource)) {
      return Option.none()
    }
    return yield* kube.listPages(resource, { limit: 1 }).pipe(
      Stream.take(1),
      Stream.runDrain,
      Effect.as(Option.some(true)),
      Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.none()))
    )
  })

/** Creates or replaces each CRD, then waits until the API server serves it. */
export const applyCrds = Effect.gen(function*() {
  const kube = yield* KubeClient
  for (const crd of crdManifests()) {
    const name = crd.metadata.name ?? ""
    yield* kube.create(crdGvr, crd).pipe(
      Effect.catchTag("KubeAlreadyExists", () =>
        kube.get(crdGvr, name).pipe(
          Effect.flatMap((live) =>
            kube.update(crdGvr, {
              ...crd,
              metadata: { ...crd.metadata, resourceVersion: live.metadata.resourceVersion ?? "" }
            })
          )
        ))
    )
    yield* waitFor(
      `CRD ${name} Established`,
      kube.get(crdGvr, name).pipe(Effect.map((live) => Option.some(live).pipe(Option.filter(isEstablished))))
    )
    yield* waitFor(`CRD ${name} served`, served(crd))
  }
})

/** A namespace that exists (created when missing). */
export const ensureNamespace = (name: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* kube.create(namespaceGvr, { apiVersion: "v1", kind: "Namespace", metadata: { name } }).pipe(
      Effect.catchTag("KubeAlreadyExists", () => Effect.void)
    )
  })
