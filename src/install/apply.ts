// Applies what install planned, through the KubeClient: each object is created, or replaced when it
// exists; CRDs go first and must be Established before anything that needs them. One line per object.
import { Console, Duration, Effect, Option, Schedule } from "effect"

import type { KubeError, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { CliError } from "../cli/errors.ts"
import { describeObject, resourceOf } from "./resources.ts"

const isEstablished = (crd: KubeObject): boolean => {
  const status = crd["status"] as {
    readonly conditions?: ReadonlyArray<{ readonly type?: string; readonly status?: string }>
  } | undefined
  return status?.conditions?.some((condition) => condition.type === "Established" && condition.status === "True") ===
    true
}

const failure = (object: KubeObject, error: KubeError) =>
  new CliError({
    message: `cannot apply ${describeObject(object)}: ${error.message}`,
    hint: error._tag === "KubeForbidden"
      ? "ark install creates CRDs and cluster RBAC: use a kubeconfig with cluster-admin rights"
      : error._tag === "KubeUnavailable"
      ? "check that the API server is reachable (--kubeconfig, $KUBECONFIG)"
      : "ark install --dry-run -o yaml shows what would be applied"
  })

/** Creates the object, or replaces the live one (retrying when someone else wrote in between). */
const applyObject = Effect.fn("Install.applyObject")(function*(object: KubeObject) {
  const kube = yield* KubeClient
  const resource = resourceOf(object)
  if (Option.isNone(resource)) {
    return yield* new CliError({
      message: `cannot apply ${
        describeObject(object)
      }: ark install does not know the kind ${object.apiVersion} ${object.kind}`
    })
  }
  const { gvr } = resource.value
  const name = object.metadata.name ?? ""
  const replace = kube.get(gvr, name, object.metadata.namespace).pipe(
    Effect.flatMap((live) =>
      kube.update(gvr, {
        ...object,
        metadata: { ...object.metadata, resourceVersion: live.metadata.resourceVersion ?? "" }
      })
    ),
    Effect.retry({ while: (error) => error._tag === "KubeConflict", times: 3 }),
    Effect.as("configured")
  )
  const outcome = yield* kube.create(gvr, object).pipe(
    Effect.as("created"),
    Effect.catchTag("KubeAlreadyExists", () => replace),
    Effect.mapError((error) => failure(object, error))
  )
  yield* Console.log(`${describeObject(object)}: ${outcome}`)
})

/** Polls until the API server serves the CRD's kind; a minute is far more than it needs. */
const awaitEstablished = Effect.fn("Install.awaitEstablished")(function*(crd: KubeObject) {
  const kube = yield* KubeClient
  const name = crd.metadata.name ?? ""
  const gvr = { group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions" }
  yield* kube.get(gvr, name).pipe(
    Effect.mapError((error) => failure(crd, error)),
    Effect.repeat({ schedule: Schedule.spaced(Duration.millis(250)), until: (live) => isEstablished(live) }),
    Effect.timeoutFail({
      duration: Duration.minutes(1),
      onTimeout: () =>
        new CliError({
          message: `CustomResourceDefinition ${name} is not Established after a minute`,
          hint: `kubectl describe crd ${name} says why`
        })
    })
  )
})

/** Applies the objects in the order given (install plans CRDs first), stopping at the first failure. */
export const applyInstall = Effect.fn("Install.apply")(function*(objects: ReadonlyArray<KubeObject>) {
  const crds = objects.filter((object) => object.kind === "CustomResourceDefinition")
  const rest = objects.filter((object) => object.kind !== "CustomResourceDefinition")
  for (const crd of crds) yield* applyObject(crd)
  for (const crd of crds) yield* awaitEstablished(crd)
  for (const object of rest) yield* applyObject(object)
})
