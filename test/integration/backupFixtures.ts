// The real-cluster fixtures of the backup tests: a namespace mixing many kinds (seeded and waited
// on until the controllers have acted), readers of what a backup stored in MinIO, and the oracle —
// the server's own Exact lists at the backup's revision.
import { Chunk, Config, Effect, Layer, Option, Schema, Stream } from "effect"

import * as S3ObjectStore from "../../layers/objectstore/S3.ts"
import type { ApiResource, GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import type { Backup } from "../../src/api/backup.ts"
import { BackupSpec } from "../../src/api/backup.ts"
import { gunzip } from "../../src/archive/gzip.ts"
import { backupKeys, groupResource, resourceEntryPath } from "../../src/archive/layout.ts"
import { readArchive } from "../../src/archive/reader.ts"
import { waitFor } from "../support/wait.ts"

export const gvr = {
  namespaces: { group: "", version: "v1", resource: "namespaces" },
  configMaps: { group: "", version: "v1", resource: "configmaps" },
  secrets: { group: "", version: "v1", resource: "secrets" },
  services: { group: "", version: "v1", resource: "services" },
  serviceAccounts: { group: "", version: "v1", resource: "serviceaccounts" },
  pods: { group: "", version: "v1", resource: "pods" },
  events: { group: "", version: "v1", resource: "events" },
  persistentVolumes: { group: "", version: "v1", resource: "persistentvolumes" },
  persistentVolumeClaims: { group: "", version: "v1", resource: "persistentvolumeclaims" },
  deployments: { group: "apps", version: "v1", resource: "deployments" },
  replicaSets: { group: "apps", version: "v1", resource: "replicasets" },
  roles: { group: "rbac.authorization.k8s.io", version: "v1", resource: "roles" },
  roleBindings: { group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings" },
  crds: { group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions" }
} satisfies Record<string, GroupVersionResource>

/** The label the selector tests pick objects by. */
export const pickLabel = { "ark-it/pick": "yes" }

/**
 * Never in a backup (docs/design.md, "Resource selection"), written out here rather than imported
 * from the code under test.
 */
const neverBackedUp = new Set([
  "componentstatuses",
  "events",
  "events.events.k8s.io",
  "backups.ark.heptio.com",
  "restores.ark.heptio.com",
  "deletebackuprequests.ark.heptio.com",
  "downloadrequests.ark.heptio.com"
])

// ---------------------------------------------------------------------------------------------
// Object storage

const s3Config = Effect.gen(function*() {
  const s3Url = yield* Config.string("ARK_TEST_S3_URL")
  const bucket = yield* Config.string("ARK_TEST_S3_BUCKET")
  const accessKeyId = yield* Config.string("AWS_ACCESS_KEY_ID")
  const secretAccessKey = yield* Config.redacted("AWS_SECRET_ACCESS_KEY")
  const region = yield* Config.string("AWS_REGION")
  return {
    s3Url,
    bucket,
    region,
    s3ForcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey }
  } satisfies S3ObjectStore.S3ObjectStoreConfig
})

/** MinIO under `prefix`; fails (never skips) without the test environment. */
export const minio = (prefix: string) =>
  Layer.unwrapEffect(
    s3Config.pipe(
      Effect.orDieWith((error) => new Error(`backup integration tests need the test environment's MinIO: ${error}`)),
      Effect.map((config) => S3ObjectStore.layer({ ...config, prefix }))
    )
  )

const decoder = new TextDecoder()

/** Every key under the store's prefix, sorted. */
export const storedKeys = Effect.gen(function*() {
  const store = yield* ObjectStore
  const listing = yield* store.list("")
  return listing.objects.map((object) => object.key).sort()
})

/** The backup's tarball read back with the archive reader: entry paths in order, and path → content. */
export const readTarball = (backup: string) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const entries = Chunk.toReadonlyArray(yield* Stream.runCollect(readArchive(store.get(backupKeys(backup).tarball))))
    const objects = new Map<string, KubeObject>()
    let version: string | undefined
    for (const entry of entries) {
      const text = decoder.decode(entry.data)
      if (entry.location._tag === "Metadata") version = text
      else objects.set(entry.path, JSON.parse(text) as KubeObject)
    }
    return { paths: entries.map((entry) => entry.path), version, objects }
  })

/** A stored file as text: gunzipped unless it is `ark-backup.json`. */
export const readText = (key: string, gzipped: boolean) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const bytes = gzipped ? gunzip(store.get(key)) : store.get(key)
    const chunks = yield* Stream.runCollect(bytes)
    return decoder.decode(Buffer.concat(Chunk.toReadonlyArray(chunks)))
  })

// ---------------------------------------------------------------------------------------------
// Backups

/** A Backup as the controller hands it over: spec decoded, defaults applied. */
export const makeBackup = (name: string, spec: Record<string, unknown>): Backup => ({
  apiVersion: "ark.heptio.com/v1",
  kind: "Backup",
  metadata: { name, namespace: "heptio-ark", uid: `uid-${name}` },
  spec: Schema.decodeUnknownSync(BackupSpec)(spec)
})

// ---------------------------------------------------------------------------------------------
// The oracle: what the server lists at one revision

/** Discovery's resources a backup can read at all: listable and not in the never-backed-up set. */
export const backupableResources = Effect.gen(function*() {
  const kube = yield* KubeClient
  const discovery = yield* kube.discover
  return discovery.resources.filter((resource) =>
    resource.verbs.includes("list") && !resource.resource.includes("/") && !neverBackedUp.has(groupResource(resource))
  )
})

const gvrOf = (resource: GroupVersionResource): GroupVersionResource => ({
  group: resource.group,
  version: resource.version,
  resource: resource.resource
})

/** One resource's objects exactly at `revision` (optionally in one namespace), checked to be served at it. */
export const listAt = (resource: GroupVersionResource, revision: string, namespace?: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const pages = yield* kube.listPages(gvrOf(resource), {
      resourceVersion: revision,
      resourceVersionMatch: "Exact",
      limit: 500,
      ...(namespace === undefined ? {} : { namespace })
    }).pipe(Stream.runCollect)
    for (const page of pages) {
      if (page.resourceVersion !== revision) {
        return yield* Effect.dieMessage(`${resource.resource} listed at ${page.resourceVersion}, not ${revision}`)
      }
    }
    return Chunk.toReadonlyArray(pages).flatMap((page) => page.items)
  })

/** The tarball entry of `object` as listed from `resource`. */
export const entryOf = (resource: ApiResource, object: KubeObject): string =>
  resourceEntryPath(
    groupResource(resource),
    resource.namespaced ? object.metadata.namespace : undefined,
    object.metadata.name ?? ""
  )

/** Every backed-up-able object of `namespace` at `revision`, keyed by tarball path, with its resource. */
export const namespaceAt = (namespace: string, revision: string) =>
  Effect.gen(function*() {
    const resources = (yield* backupableResources).filter((resource) => resource.namespaced)
    const entries = new Map<string, { readonly resource: ApiResource; readonly object: KubeObject }>()
    for (const resource of resources) {
      for (const object of yield* listAt(resource, revision, namespace)) {
        entries.set(entryOf(resource, object), { resource, object })
      }
    }
    return entries
  })

/** The cluster-scoped object `name` of `resource` at `revision`, with its tarball path. */
export const clusterObjectAt = (resource: GroupVersionResource, name: string, revision: string) =>
  Effect.gen(function*() {
    const resources = yield* backupableResources
    const served = resources.find((candidate) =>
      candidate.group === resource.group && candidate.resource === resource.resource
    )
    if (served === undefined) return yield* Effect.dieMessage(`${resource.resource} is not served`)
    const found = (yield* listAt(served, revision)).find((object) => object.metadata.name === name)
    if (found === undefined) {
      return yield* Effect.dieMessage(`${resource.resource} ${name} does not exist at ${revision}`)
    }
    return [entryOf(served, found), found] as const
  })

// ---------------------------------------------------------------------------------------------
// The mixed namespace

export interface MixedNamespace {
  readonly namespace: string
  /** The CRD's group, unique to this run. */
  readonly group: string
  readonly crdName: string
  /** Bound to the namespace's PVC. */
  readonly boundVolume: string
  /** Available, bound to nothing: never related to the namespace. */
  readonly spareVolume: string
}

const labels = (extra: Record<string, string> = {}) => ({ "ark-it/fixture": "backup", ...extra })

const conditionTrue = (object: KubeObject, type: string): boolean =>
  ((object["status"] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some(
    (condition) => condition.type === type && condition.status === "True"
  )

const statusField = (object: KubeObject, field: string): unknown =>
  (object["status"] as Record<string, unknown> | undefined)?.[field]

const persistentVolume = (name: string, run: string): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name, labels: labels({ "ark-it/volume": name, "ark-it/run": run }) },
  spec: {
    capacity: { storage: "1Gi" },
    accessModes: ["ReadWriteOnce"],
    persistentVolumeReclaimPolicy: "Retain",
    storageClassName: "",
    hostPath: { path: `/tmp/ark-it/${name}` }
  }
})

/** A CRD of namespaced Widgets in `group`, any spec accepted. */
export const widgetCrd = (group: string): KubeObject => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `widgets.${group}`, labels: labels() },
  spec: {
    group,
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
    versions: [{
      name: "v1",
      served: true,
      storage: true,
      schema: {
        openAPIV3Schema: {
          type: "object",
          properties: { spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true } }
        }
      }
    }]
  }
})

/** The names of one run's mixed namespace and what it relates to, unique to the run. */
export const mixedNamespace = (run: string): MixedNamespace => {
  const group = `g${run}.ark-it.example.com`
  return {
    namespace: `ark-it-backup-${run}`,
    group,
    crdName: `widgets.${group}`,
    boundVolume: `ark-it-pv-${run}`,
    spareVolume: `ark-it-pv-spare-${run}`
  }
}

/**
 * Seeds the namespace and waits until the real controllers have acted: the Deployment's ReplicaSet
 * and Running pods, the PVC Bound to its PV, the CRD Established and served, events recorded.
 */
export const seedMixedNamespace = (fixture: MixedNamespace, run: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const { namespace, group } = fixture
    const inNamespace = (
      kind: string,
      apiVersion: string,
      name: string,
      body: Record<string, unknown>,
      extraLabels: Record<string, string> = {}
    ): KubeObject => ({
      apiVersion,
      kind,
      metadata: { name, namespace, labels: labels(extraLabels) },
      ...body
    })

    yield* kube.create(gvr.namespaces, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace, labels: labels() }
    })
    yield* kube.create(gvr.crds, widgetCrd(group))
    yield* kube.create(gvr.persistentVolumes, persistentVolume(fixture.boundVolume, run))
    yield* kube.create(gvr.persistentVolumes, persistentVolume(fixture.spareVolume, run))

    yield* kube.create(
      gvr.deployments,
      inNamespace("Deployment", "apps/v1", "web", {
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: { containers: [{ name: "main", image: "nginx:1.27" }] }
          }
        }
      })
    )
    yield* kube.create(
      gvr.services,
      inNamespace("Service", "v1", "web", { spec: { selector: { app: "web" }, ports: [{ port: 80 }] } })
    )
    yield* kube.create(
      gvr.configMaps,
      inNamespace("ConfigMap", "v1", "settings", { data: { mode: "prod" } }, pickLabel)
    )
    yield* kube.create(gvr.configMaps, inNamespace("ConfigMap", "v1", "plain", { data: { mode: "dev" } }))
    yield* kube.create(
      gvr.secrets,
      inNamespace("Secret", "v1", "creds", { type: "Opaque", stringData: { token: "s3cr3t" } }, pickLabel)
    )
    yield* kube.create(
      gvr.secrets,
      inNamespace("Secret", "v1", "other", { type: "Opaque", stringData: { token: "other" } })
    )
    yield* kube.create(gvr.serviceAccounts, inNamespace("ServiceAccount", "v1", "runner", {}))
    yield* kube.create(
      gvr.roles,
      inNamespace("Role", "rbac.authorization.k8s.io/v1", "reader", {
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }]
      })
    )
    yield* kube.create(
      gvr.roleBindings,
      inNamespace("RoleBinding", "rbac.authorization.k8s.io/v1", "reader", {
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" },
        subjects: [{ kind: "ServiceAccount", name: "runner", namespace }]
      })
    )
    // Its ClusterRole must NOT come along (only PVs and CRDs are related items).
    yield* kube.create(
      gvr.roleBindings,
      inNamespace("RoleBinding", "rbac.authorization.k8s.io/v1", "viewer", {
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "ServiceAccount", name: "runner", namespace }]
      })
    )
    // The selector keeps the binder from choosing another run's volume.
    yield* kube.create(
      gvr.persistentVolumeClaims,
      inNamespace("PersistentVolumeClaim", "v1", "data", {
        spec: {
          accessModes: ["ReadWriteOnce"],
          storageClassName: "",
          resources: { requests: { storage: "1Gi" } },
          selector: { matchLabels: { "ark-it/volume": fixture.boundVolume } }
        }
      }, pickLabel)
    )

    yield* waitFor(
      `CRD ${fixture.crdName} Established`,
      kube.get(gvr.crds, fixture.crdName).pipe(
        Effect.map((crd) => Option.some(crd).pipe(Option.filter((c) => conditionTrue(c, "Established"))))
      )
    )
    yield* waitFor(
      `${fixture.crdName} in discovery`,
      kube.discover.pipe(
        Effect.map((discovery) =>
          discovery.resources.some((resource) => resource.group === group && resource.resource === "widgets")
            ? Option.some(true)
            : Option.none()
        )
      )
    )
    const widgets = { group, version: "v1", resource: "widgets" }
    for (const [name, extra] of [["w-1", pickLabel], ["w-2", {}]] as const) {
      // The CRD's REST endpoint may lag its Established condition by a moment.
      yield* waitFor(
        `widget ${name} created`,
        kube.create(widgets, inNamespace("Widget", `${group}/v1`, name, { spec: { size: name.length } }, extra)).pipe(
          Effect.map(Option.some),
          Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.none()))
        )
      )
    }

    yield* waitFor(
      "PVC data Bound",
      kube.get(gvr.persistentVolumeClaims, "data", namespace).pipe(Effect.map((pvc) =>
        statusField(pvc, "phase") === "Bound" &&
          (pvc["spec"] as { volumeName?: string }).volumeName === fixture.boundVolume
          ? Option.some(pvc)
          : Option.none()
      )),
      // Usually a second; the binder's 15 s resync and a busy machine have made it much longer.
      "150 seconds"
    ).pipe(Effect.catchTag("DeadlineExceeded", (error) =>
      describeTimeout(error.message, [[gvr.persistentVolumeClaims, "data", namespace], [
        gvr.persistentVolumes,
        fixture.boundVolume,
        undefined
      ]])))
    yield* waitFor(
      `PV ${fixture.boundVolume} Bound`,
      kube.get(gvr.persistentVolumes, fixture.boundVolume).pipe(Effect.map((pv) =>
        statusField(pv, "phase") === "Bound" ? Option.some(pv) : Option.none()
      ))
    )
    yield* waitFor(
      "Deployment web available with its ReplicaSet and 2 Running pods",
      Effect.gen(function*() {
        const deployment = yield* kube.get(gvr.deployments, "web", namespace)
        const replicaSets = yield* listNow(gvr.replicaSets, namespace)
        const pods = yield* listNow(gvr.pods, namespace)
        const running = pods.filter((pod) =>
          statusField(pod, "phase") === "Running"
        )
        return statusField(deployment, "availableReplicas") === 2 && replicaSets.length === 1 && running.length === 2
          ? Option.some(true)
          : Option.none()
      }),
      "90 seconds"
    ).pipe(Effect.catchTag("DeadlineExceeded", (error) =>
      Effect.gen(function*() {
        const pods = yield* listNow(gvr.pods, namespace)
        const podStates = pods.map((pod) =>
          `${pod.metadata.name}: ${JSON.stringify(pod["status"])}`
        ).join("\n")
        return yield* describeTimeout(`${error.message}\npods:\n${podStates}`, [[gvr.deployments, "web", namespace]])
      })))
    // Events are never backed up: make sure there are some to leave out.
    yield* waitFor(
      `events in ${namespace}`,
      listNow(gvr.events, namespace).pipe(
        Effect.map((events) => (events.length > 0 ? Option.some(events) : Option.none()))
      )
    )
  })

/** Dies with what a timed-out wait last saw, so a slow controller can be told from a broken one. */
const describeTimeout = (
  message: string,
  objects: ReadonlyArray<readonly [GroupVersionResource, string, string | undefined]>
) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const states: Array<string> = []
    for (const [resource, name, namespace] of objects) {
      const state = yield* kube.get(resource, name, namespace).pipe(
        Effect.map((object) => JSON.stringify({ spec: object["spec"], status: object["status"] })),
        Effect.catchAll((error) => Effect.succeed(error.message))
      )
      states.push(`${resource.resource} ${name}: ${state}`)
    }
    return yield* Effect.dieMessage(`${message}\n${states.join("\n")}`)
  })

/** The newest objects of one resource. */
export const listNow = (resource: GroupVersionResource, namespace?: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const pages = yield* kube.listPages(resource, namespace === undefined ? {} : { namespace }).pipe(Stream.runCollect)
    return Chunk.toReadonlyArray(pages).flatMap((page) => page.items)
  })

/** Removes what the seed made outside the namespace, and the namespace; best effort. */
export const cleanupMixedNamespace = (fixture: MixedNamespace) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* kube.delete(gvr.namespaces, fixture.namespace).pipe(Effect.ignore)
    yield* kube.delete(gvr.crds, fixture.crdName).pipe(Effect.ignore)
    yield* kube.delete(gvr.persistentVolumes, fixture.boundVolume).pipe(Effect.ignore)
    yield* kube.delete(gvr.persistentVolumes, fixture.spareVolume).pipe(Effect.ignore)
  })
