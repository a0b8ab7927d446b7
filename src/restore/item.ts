// One backed-up object into the cluster (docs/design.md, "Restore semantics"): transform, make
// sure its namespace exists, create; when it already exists compare, then leave it (policy none)
// or patch it to the backup's state (policy update). Never fails: every outcome is a value the run
// tallies.
import { Data, Duration, Effect, Either, Schedule } from "effect"

import type { Discovery, GroupVersionResource, KubeError, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { withMarkers } from "../api/index.ts"
import type { ExistingResourcePolicy } from "../api/restore.ts"
import { parseGroupResource } from "../archive/layout.ts"
import type { ArchiveEntry } from "../archive/reader.ts"
import { entryJson } from "../archive/reader.ts"
import { isRecord } from "../kube/json.ts"
import type { RestoreActions } from "./actions.ts"
import { diffLines, mergePatchBetween } from "./compare.ts"
import type { PlannedItem } from "./plan.ts"
import type { RestoreContext } from "./transforms.ts"
import { comparable, restoreMarkers, targetNamespace } from "./transforms.ts"
import type { PersistentVolumeRestorer } from "./volumes.ts"

export type ItemOutcome =
  | { readonly _tag: "Created"; readonly note?: string }
  | { readonly _tag: "Skipped"; readonly reason: string }
  | { readonly _tag: "Unchanged" }
  | { readonly _tag: "Updated"; readonly diff: ReadonlyArray<string> }
  | { readonly _tag: "Differs"; readonly diff: ReadonlyArray<string> }
  | { readonly _tag: "Failed"; readonly message: string }

export interface ItemEnv {
  readonly context: RestoreContext
  /** Turn each backed-up object into what is created (actions.ts). */
  readonly actions: RestoreActions
  readonly policy: ExistingResourcePolicy
  /** Replaced after the CRDs are restored (rediscovery). */
  readonly discovery: { current: Discovery }
  /** Target namespaces known to exist. */
  readonly namespaces: Set<string>
  /** Restores snapshotted PVs on new volumes; without it PVs are created as backed up. */
  readonly persistentVolumes?: PersistentVolumeRestorer
}

/** Where an item goes: the resource as the cluster serves it, and its target namespace and name. */
export interface Target {
  readonly gvr: GroupVersionResource
  readonly namespace: string | undefined
  readonly name: string
}

export const NAMESPACES: GroupVersionResource = { group: "", version: "v1", resource: "namespaces" }
export const CRDS: GroupVersionResource = {
  group: "apiextensions.k8s.io",
  version: "v1",
  resource: "customresourcedefinitions"
}

/** The target namespace and name, after mapping (a Namespace's own name is mapped too). */
export const targetName = (context: RestoreContext, item: PlannedItem) => ({
  namespace: item.namespace === undefined ? undefined : targetNamespace(context, item.namespace),
  name: item.groupResource === "namespaces" ? targetNamespace(context, item.name) : item.name
})

/** The resource in the cluster's discovery; the object keeps the version it was backed up in. */
export const resolveTarget = (
  discovery: Discovery,
  context: RestoreContext,
  item: PlannedItem,
  object: KubeObject
): Either.Either<Target, string> => {
  const { group, resource } = parseGroupResource(item.groupResource)
  const served = discovery.resources.find((candidate) => candidate.group === group && candidate.resource === resource)
  if (served === undefined) return Either.left(`the cluster serves no ${item.groupResource}`)
  if (served.namespaced !== (item.namespace !== undefined)) {
    return Either.left(
      `${item.groupResource} is ${
        served.namespaced ? "namespaced" : "cluster-scoped"
      } in the cluster but not in the backup`
    )
  }
  const slash = object.apiVersion.indexOf("/")
  const objectGroup = slash < 0 ? "" : object.apiVersion.slice(0, slash)
  const version = objectGroup === group ? object.apiVersion.slice(slash + 1) : served.version
  return Either.right({ gvr: { group, version, resource }, ...targetName(context, item) })
}

export const parseEntryObject = (entry: ArchiveEntry): Either.Either<KubeObject, string> =>
  Either.mapBoth(entryJson(entry), {
    onLeft: (error) => error.reason,
    onRight: (json) => json as unknown as KubeObject
  })

const failed = (message: string): ItemOutcome => ({ _tag: "Failed", message })

/** A namespace the restore needs and the backup does not bring: created plain, with Ark's labels. */
export const ensureNamespace = Effect.fn("Restore.ensureNamespace")(function*(env: ItemEnv, namespace: string) {
  if (env.namespaces.has(namespace)) return
  const kube = yield* KubeClient
  const plain: KubeObject = {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: withMarkers({ name: namespace }, restoreMarkers(env.context))
  }
  yield* kube.get(NAMESPACES, namespace).pipe(
    Effect.catchTag(
      "KubeNotFound",
      () => kube.create(NAMESPACES, plain).pipe(Effect.catchTag("KubeAlreadyExists", () => Effect.void))
    )
  )
  env.namespaces.add(namespace)
})

const kubeMessage = (error: KubeError) => error.message

/** The live object exists: compare, then keep or patch it. */
const reconcileExisting = Effect.fn("Restore.reconcileExisting")(
  function*(env: ItemEnv, item: PlannedItem, target: Target, desired: KubeObject) {
    const kube = yield* KubeClient
    const live = yield* kube.get(target.gvr, target.name, target.namespace).pipe(Effect.either)
    if (Either.isLeft(live)) return failed(`exists but cannot be read: ${kubeMessage(live.left)}`)
    const have = comparable(item.groupResource, live.right, env.context)
    const want = comparable(item.groupResource, desired, env.context)
    const diff = diffLines(have, want)
    if (diff.length === 0) return { _tag: "Unchanged" } satisfies ItemOutcome
    if (env.policy === "none") return { _tag: "Differs", diff } satisfies ItemOutcome
    // Against the live object without Ark's labels, so the patch always sets this restore's.
    const patch = mergePatchBetween(have, {
      ...want,
      metadata: withMarkers(want.metadata, restoreMarkers(env.context))
    })
    const patched = yield* kube.patch(target.gvr, target.name, { type: "merge", body: patch }, target.namespace).pipe(
      Effect.either
    )
    return Either.isLeft(patched)
      ? failed(`exists and differs; updating it failed: ${kubeMessage(patched.left)}`)
      : { _tag: "Updated", diff } satisfies ItemOutcome
  }
)

/**
 * Restores one planned item from its tarball entry. Untraced on purpose: a span per item cost a
 * third of a 10k-object restore; each level is traced instead ("Restore.level").
 */
export const restoreItem = Effect.fnUntraced(function*(env: ItemEnv, item: PlannedItem, entry: ArchiveEntry) {
  const kube = yield* KubeClient
  const object = parseEntryObject(entry)
  if (Either.isLeft(object)) return failed(object.left)
  const target = resolveTarget(env.discovery.current, env.context, item, object.right)
  if (Either.isLeft(target)) return failed(target.left)
  const applied = yield* env.actions.apply(item.groupResource, object.right, env.context)
  if (applied._tag === "Skipped") return { _tag: "Skipped", reason: applied.reason } satisfies ItemOutcome
  if (applied._tag === "Failed") return failed(applied.message)
  const transformed = applied.item
  const decision = item.groupResource === "persistentvolumes" && env.persistentVolumes !== undefined
    ? yield* env.persistentVolumes.decide(transformed)
    : { _tag: "Create" as const, object: transformed }
  if (decision._tag === "Skip") return { _tag: "Skipped", reason: decision.reason } satisfies ItemOutcome
  if (decision._tag === "Failed") return failed(decision.message)
  const desired = decision.object
  if (target.right.namespace !== undefined && !env.namespaces.has(target.right.namespace)) {
    const ensured = yield* ensureNamespace(env, target.right.namespace).pipe(Effect.either)
    if (Either.isLeft(ensured)) {
      return failed(`namespace ${target.right.namespace} could not be created: ${kubeMessage(ensured.left)}`)
    }
  }
  const created = yield* kube.create(target.right.gvr, desired).pipe(Effect.either)
  if (Either.isRight(created)) {
    if (item.groupResource === "namespaces") env.namespaces.add(target.right.name)
    return (decision.note === undefined
      ? { _tag: "Created" }
      : { _tag: "Created", note: decision.note }) satisfies ItemOutcome
  }
  if (created.left._tag !== "KubeAlreadyExists") return failed(kubeMessage(created.left))
  const outcome = yield* reconcileExisting(env, item, target.right, desired)
  if (item.groupResource === "namespaces") env.namespaces.add(target.right.name)
  return outcome
})

export class CrdNotEstablished extends Data.TaggedError("CrdNotEstablished")<{ readonly name: string }> {
  override get message() {
    return `CustomResourceDefinition ${this.name} is not Established yet`
  }
}

const isEstablished = (crd: KubeObject): boolean => {
  const status = crd["status"]
  const conditions = isRecord(status) && Array.isArray(status["conditions"]) ? status["conditions"] : []
  return conditions.some((condition: unknown) =>
    isRecord(condition) && condition["type"] === "Established" && condition["status"] === "True"
  )
}

export const defaultEstablishTimeout = Duration.seconds(60)

/** Polls the CRD until its Established condition is True; the API serves its resources only then. */
export const waitEstablished = Effect.fn("Restore.waitEstablished")(
  function*(name: string, timeout: Duration.DurationInput = defaultEstablishTimeout) {
    const kube = yield* KubeClient
    const check = kube.get(CRDS, name).pipe(
      Effect.flatMap((crd) => (isEstablished(crd) ? Effect.void : Effect.fail(new CrdNotEstablished({ name }))))
    )
    yield* check.pipe(
      Effect.retry(Schedule.spaced(Duration.millis(250))),
      Effect.timeoutFail({ duration: timeout, onTimeout: () => new CrdNotEstablished({ name }) })
    )
  }
)
