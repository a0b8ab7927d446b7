// Restore fidelity on real components, through real `ark server` processes: one namespace holding
// an object of every namespaced kind a user writes by hand (plus the PV, CRD and IngressClass it
// uses) is backed up, deleted and restored, and every object must come back equal to the original
// up to the transformations named in one table below. Then the same backup is restored into the
// second cluster through object-storage sync. Last, long backup, restore and schedule names work end
// to end.
import { randomUUID } from "node:crypto"

import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"

import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import {
  apiVersion,
  backupNameLabel,
  nameLabelValue,
  nameSelector,
  namesIt,
  restoreNameLabel,
  scheduleNameLabel
} from "../../src/api/index.ts"
import { newDeleteBackupRequest } from "../../src/deletion/requests.ts"
import { waitFor } from "../support/wait.ts"
import { widgetCrd } from "./backupFixtures.ts"
import { liveKube } from "./live.ts"
import type { ServerProcess } from "./serverProcess.ts"
import {
  arkGvr,
  arkServer,
  finished,
  kubeconfigOf,
  listAll,
  serverNamespace,
  sharedMinio,
  statusOf,
  waitForGone,
  waitForImport,
  waitForObject
} from "./serverProcess.ts"

const run = randomUUID().slice(0, 8)
/** Every object the test makes carries it; the backup selects by it. */
const pick = { "ark-it/fidelity": run }

const r = (group: string, version: string, resource: string): GroupVersionResource => ({ group, version, resource })

/** Where each kind is served, and whether it is namespaced. */
const kinds: Record<string, { readonly gvr: GroupVersionResource; readonly namespaced: boolean }> = {
  Namespace: { gvr: r("", "v1", "namespaces"), namespaced: false },
  ConfigMap: { gvr: r("", "v1", "configmaps"), namespaced: true },
  Secret: { gvr: r("", "v1", "secrets"), namespaced: true },
  ServiceAccount: { gvr: r("", "v1", "serviceaccounts"), namespaced: true },
  Service: { gvr: r("", "v1", "services"), namespaced: true },
  Pod: { gvr: r("", "v1", "pods"), namespaced: true },
  PersistentVolume: { gvr: r("", "v1", "persistentvolumes"), namespaced: false },
  PersistentVolumeClaim: { gvr: r("", "v1", "persistentvolumeclaims"), namespaced: true },
  ResourceQuota: { gvr: r("", "v1", "resourcequotas"), namespaced: true },
  LimitRange: { gvr: r("", "v1", "limitranges"), namespaced: true },
  Deployment: { gvr: r("apps", "v1", "deployments"), namespaced: true },
  StatefulSet: { gvr: r("apps", "v1", "statefulsets"), namespaced: true },
  DaemonSet: { gvr: r("apps", "v1", "daemonsets"), namespaced: true },
  ReplicaSet: { gvr: r("apps", "v1", "replicasets"), namespaced: true },
  Job: { gvr: r("batch", "v1", "jobs"), namespaced: true },
  CronJob: { gvr: r("batch", "v1", "cronjobs"), namespaced: true },
  HorizontalPodAutoscaler: { gvr: r("autoscaling", "v2", "horizontalpodautoscalers"), namespaced: true },
  PodDisruptionBudget: { gvr: r("policy", "v1", "poddisruptionbudgets"), namespaced: true },
  NetworkPolicy: { gvr: r("networking.k8s.io", "v1", "networkpolicies"), namespaced: true },
  Ingress: { gvr: r("networking.k8s.io", "v1", "ingresses"), namespaced: true },
  IngressClass: { gvr: r("networking.k8s.io", "v1", "ingressclasses"), namespaced: false },
  Role: { gvr: r("rbac.authorization.k8s.io", "v1", "roles"), namespaced: true },
  RoleBinding: { gvr: r("rbac.authorization.k8s.io", "v1", "rolebindings"), namespaced: true },
  Lease: { gvr: r("coordination.k8s.io", "v1", "leases"), namespaced: true },
  CustomResourceDefinition: { gvr: r("apiextensions.k8s.io", "v1", "customresourcedefinitions"), namespaced: false }
}

interface Fixture {
  readonly namespace: string
  readonly crdGroup: string
  readonly volume: string
  readonly ingressClass: string
  /** A nodePort written down by hand (kubectl's last-applied configuration names it). */
  readonly fixedNodePort: number
}

const fixtureOf = (namespace: string): Fixture => ({
  namespace,
  crdGroup: `fid-${run}.example.com`,
  volume: `ark-it-fid-pv-${run}`,
  ingressClass: `ark-it-fid-${run}`,
  fixedNodePort: 30000 + (parseInt(run.slice(0, 4), 16) % 2700)
})

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64")

const container = (name: string) => ({ name, image: "registry.example.com/app:1.0", ports: [{ containerPort: 8080 }] })

const podTemplate = (app: string, restartPolicy?: string) => ({
  metadata: { labels: { app, ...pick } },
  spec: { containers: [container(app)], ...(restartPolicy === undefined ? {} : { restartPolicy }) }
})

/** The objects, in creation order: what each needs exists before it. */
const handMade = (f: Fixture): ReadonlyArray<KubeObject> => {
  const ns = f.namespace
  const meta = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    namespace: ns,
    labels: pick,
    ...extra
  })
  const service = (name: string, spec: Record<string, unknown>, annotations?: Record<string, string>) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(name, annotations === undefined ? {} : { annotations }),
    spec
  })
  const fixedPortSpec = {
    type: "NodePort",
    selector: { app: "web" },
    ports: [{ name: "http", port: 80, targetPort: 8080, nodePort: f.fixedNodePort }]
  }
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: pick } },
    {
      apiVersion: "v1",
      kind: "LimitRange",
      metadata: meta("defaults"),
      spec: {
        limits: [{
          type: "Container",
          default: { cpu: "100m", memory: "64Mi" },
          defaultRequest: { cpu: "50m", memory: "32Mi" }
        }]
      }
    },
    {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: meta("counts"),
      spec: { hard: { pods: "50", configmaps: "50", secrets: "50", services: "20" } }
    },
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: meta("builder"),
      imagePullSecrets: [{ name: "registry" }]
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta("settings", { annotations: { "example.com/owner": "team-a" } }),
      data: { "app.properties": "mode=fast\nretries=3\n" },
      binaryData: { blob: b64("\u0000\u0001binary") }
    },
    { apiVersion: "v1", kind: "Secret", metadata: meta("opaque"), type: "Opaque", data: { password: b64("s3cret") } },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: meta("tls"),
      type: "kubernetes.io/tls",
      data: { "tls.crt": b64("-----BEGIN CERTIFICATE-----\n"), "tls.key": b64("-----BEGIN PRIVATE KEY-----\n") }
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: meta("registry"),
      type: "kubernetes.io/dockerconfigjson",
      data: { ".dockerconfigjson": b64(JSON.stringify({ auths: { "registry.example.com": { auth: b64("u:p") } } })) }
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: meta("basic"),
      type: "kubernetes.io/basic-auth",
      stringData: { username: "admin", password: "t0p" }
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: meta("ssh"),
      type: "kubernetes.io/ssh-auth",
      data: { "ssh-privatekey": b64("-----BEGIN OPENSSH PRIVATE KEY-----\n") }
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: meta("builder-token", { annotations: { "kubernetes.io/service-account.name": "builder" } }),
      type: "kubernetes.io/service-account-token"
    },
    { ...widgetCrd(f.crdGroup), metadata: { name: `widgets.${f.crdGroup}`, labels: pick } },
    {
      apiVersion: `${f.crdGroup}/v1`,
      kind: "Widget",
      metadata: meta("gear"),
      spec: { size: 3, colours: ["red", "blue"], nested: { deep: true } }
    },
    {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: f.volume, labels: pick },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: "",
        hostPath: { path: `/tmp/ark-it/${f.volume}` },
        claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: ns, name: "data" }
      }
    },
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: meta("data"),
      spec: { accessModes: ["ReadWriteOnce"], storageClassName: "", resources: { requests: { storage: "1Gi" } } }
    },
    service("cluster-ip", { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] }),
    service("node-port", { type: "NodePort", selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] }),
    service("node-port-fixed", fixedPortSpec, {
      "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "node-port-fixed", namespace: ns },
        spec: fixedPortSpec
      })
    }),
    service("load-balancer", {
      type: "LoadBalancer",
      selector: { app: "web" },
      ports: [{ name: "https", port: 443, targetPort: 8443 }]
    }),
    service("external", { type: "ExternalName", externalName: "db.example.com" }),
    service("headless", { clusterIP: "None", selector: { app: "db" }, ports: [{ port: 5432 }] }),
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta("web"),
      spec: { replicas: 1, selector: { matchLabels: { app: "web" } }, template: podTemplate("web") }
    },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta("db"),
      spec: {
        replicas: 1,
        serviceName: "headless",
        selector: { matchLabels: { app: "db" } },
        template: podTemplate("db")
      }
    },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: meta("agent"),
      spec: { selector: { matchLabels: { app: "agent" } }, template: podTemplate("agent") }
    },
    {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: meta("solo"),
      spec: { replicas: 1, selector: { matchLabels: { app: "solo" } }, template: podTemplate("solo") }
    },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: meta("lonely", { labels: { app: "lonely", ...pick } }),
      spec: {
        containers: [container("lonely")]
      }
    },
    // As `kubectl create job j --image=busybox` makes it (the API server generates the selector),
    // suspended: kwok completes a running Job's pods at once, and a finished Job is not restored.
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: meta("j"),
      spec: {
        suspend: true,
        template: {
          metadata: { labels: { app: "j", ...pick } },
          spec: { containers: [container("j")], restartPolicy: "Never" }
        }
      }
    },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: meta("yearly"),
      // Once a year: no run during the test.
      spec: { schedule: "0 0 1 1 *", jobTemplate: { spec: { template: podTemplate("yearly", "OnFailure") } } }
    },
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: meta("web"),
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
        minReplicas: 1,
        maxReplicas: 3,
        metrics: [{
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } }
        }]
      }
    },
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta("web"),
      spec: { minAvailable: 1, selector: { matchLabels: { app: "web" } } }
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta("deny-ingress"),
      spec: { podSelector: {}, policyTypes: ["Ingress"] }
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "IngressClass",
      metadata: { name: f.ingressClass, labels: pick },
      spec: { controller: "example.com/ingress-controller" }
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: meta("web"),
      spec: {
        ingressClassName: f.ingressClass,
        rules: [{
          host: "web.example.com",
          http: {
            paths: [{
              path: "/",
              pathType: "Prefix",
              backend: { service: { name: "cluster-ip", port: { number: 80 } } }
            }]
          }
        }]
      }
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: meta("reader"),
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }]
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta("reader"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" },
      subjects: [
        { kind: "ServiceAccount", name: "builder", namespace: ns },
        { apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "jane" }
      ]
    },
    {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: meta("leader"),
      spec: { holderIdentity: "replica-1", leaseDurationSeconds: 15 }
    }
  ]
}

const where = (object: KubeObject) => {
  const known = kinds[object.kind]
  if (known !== undefined) return known
  // The custom resource: its group is in its apiVersion.
  const [group = "", version = ""] = object.apiVersion.split("/")
  return { gvr: r(group, version, "widgets"), namespaced: true }
}

const idOf = (object: KubeObject) =>
  `${object.kind} ${object.metadata.namespace === undefined ? "" : `${object.metadata.namespace}/`}${
    object.metadata.name ?? ""
  }`

const readObject = (object: KubeObject) =>
  Effect.flatMap(KubeClient, (kube) => {
    const { gvr, namespaced } = where(object)
    return kube.get(gvr, object.metadata.name ?? "", namespaced ? object.metadata.namespace : undefined)
  })

const record = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : {}

const conditionTrue = (object: KubeObject, type: string) =>
  ((statusOf(object)["conditions"] ?? []) as ReadonlyArray<{ type?: string; status?: string }>).some(
    (condition) => condition.type === type && condition.status === "True"
  )

/** Waits until the states the comparison depends on are reached: what controllers fill in is there. */
const settled = (f: Fixture) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const ns = f.namespace
    yield* waitForObject(kinds.PersistentVolumeClaim!.gvr, "data", ns, "Bound", (pvc) =>
      statusOf(pvc)["phase"] === "Bound")
    yield* waitFor(
      `PV ${f.volume} Bound`,
      kube.get(kinds.PersistentVolume!.gvr, f.volume).pipe(
        Effect.map((pv) =>
          statusOf(pv)["phase"] === "Bound" ? Option.some(pv) : Option.none()
        )
      ),
      "150 seconds"
    )
    yield* waitForObject(
      kinds.Secret!.gvr,
      "builder-token",
      ns,
      "filled in by the token controller",
      (secret) =>
        typeof record(secret["data"])["token"] === "string"
    )
    // The controllers' objects exist, so the backup holds owned objects the restore must skip.
    for (const app of ["web", "db", "agent", "solo"]) {
      yield* waitFor(
        `a pod of ${app}`,
        listAll(kinds.Pod!.gvr, ns, `app=${app}`).pipe(Effect.map((pods) =>
          Option.fromNullable(pods[0])
        )),
        "120 seconds"
      )
    }
  })

/** Creates the namespace's objects in order; they are removed by `removeAll`. */
const createAll = (f: Fixture) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    for (const object of handMade(f)) {
      const { gvr } = where(object)
      yield* kube.create(gvr, object)
      if (object.kind === "CustomResourceDefinition") {
        yield* waitFor(
          `CRD ${object.metadata.name} Established`,
          kube.get(gvr, object.metadata.name ?? "").pipe(
            Effect.map((crd) => conditionTrue(crd, "Established") ? Option.some(crd) : Option.none())
          )
        )
      }
    }
  })

/** The namespace, then the cluster-scoped objects, each gone before this returns. */
const removeAll = (f: Fixture) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const remove = (gvr: GroupVersionResource, name: string) =>
      kube.delete(gvr, name).pipe(Effect.catchTag("KubeNotFound", () => Effect.void))
    yield* remove(kinds.Namespace!.gvr, f.namespace)
    yield* waitForGoneLong(kinds.Namespace!.gvr, f.namespace)
    for (
      const [gvr, name] of [
        [kinds.PersistentVolume!.gvr, f.volume],
        [kinds.CustomResourceDefinition!.gvr, `widgets.${f.crdGroup}`],
        [kinds.IngressClass!.gvr, f.ingressClass]
      ] as const
    ) {
      yield* remove(gvr, name)
      yield* waitForGoneLong(gvr, name)
    }
  })

/** A namespace of many kinds takes a while to finalize on a busy machine. */
const waitForGoneLong = (gvr: GroupVersionResource, name: string) =>
  Effect.flatMap(KubeClient, (kube) =>
    waitFor(
      `${gvr.resource}/${name} gone`,
      kube.get(gvr, name).pipe(
        Effect.as(Option.none<true>()),
        Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.some(true as const)))
      ),
      "300 seconds"
    ))

// ---------------------------------------------------------------------------------------------
// The comparison

type Json = Record<string, unknown>

/** What a restore is responsible for: the object without status and server-managed metadata. */
const view = (object: KubeObject): Json => {
  const { metadata, status: _status, ...rest } = object
  return structuredClone({
    ...rest,
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      labels: metadata.labels ?? {},
      annotations: metadata.annotations ?? {},
      finalizers: metadata.finalizers ?? []
    }
  }) as Json
}

interface Transformation {
  readonly rule: string
  readonly applies: (original: KubeObject) => boolean
  /** Clears, in place, what the rule changes; run on both the original's view and the restored one's. */
  readonly clear: (view: Json) => void
}

const labelsOf = (v: Json) => record(record(v["metadata"])["labels"])
const annotationsOf = (v: Json) => record(record(v["metadata"])["annotations"])
const specOf = (v: Json) => record(v["spec"])

/** Services whose nodePorts nobody wrote down. */
const autoNodePorts = new Set(["node-port", "load-balancer"])

/**
 * Every way a restored object may differ from its original. A kind that needs a new entry here is
 * a visible decision: each must apply to at least one object of the fixture.
 */
const documented: ReadonlyArray<Transformation> = [
  {
    rule: "all: the restore-name and backup-name labels are added",
    applies: () => true,
    clear: (v) => {
      delete labelsOf(v)[restoreNameLabel]
      delete labelsOf(v)[backupNameLabel]
    }
  },
  {
    rule: "Service: clusterIP/clusterIPs re-allocated (headless None kept)",
    applies: (o) =>
      o.kind === "Service" && record(o["spec"])["clusterIP"] !== "None" && record(o["spec"])["type"] !== "ExternalName",
    clear: (v) => {
      delete specOf(v)["clusterIP"]
      delete specOf(v)["clusterIPs"]
    }
  },
  {
    rule:
      "Service NodePort/LoadBalancer: nodePort re-allocated unless set by hand (kubectl's last-applied configuration)",
    applies: (o) => o.kind === "Service" && autoNodePorts.has(o.metadata.name ?? ""),
    clear: (v) => {
      for (const port of (specOf(v)["ports"] ?? []) as Array<Json>) delete port["nodePort"]
    }
  },
  {
    rule: "Pod: nodeName dropped, the scheduler places it again",
    applies: (o) => o.kind === "Pod",
    clear: (v) => void delete specOf(v)["nodeName"]
  },
  {
    rule: "Job: controller-uid labels and the generated selector regenerated for the new uid",
    applies: (o) => o.kind === "Job",
    clear: (v) => {
      const spec = specOf(v)
      delete spec["selector"]
      const labels = record(record(record(spec["template"])["metadata"])["labels"])
      delete labels["controller-uid"]
      delete labels["batch.kubernetes.io/controller-uid"]
    }
  },
  {
    rule:
      "Secret service-account-token: the token controller issues a new token for the restored account (uid annotation, data)",
    applies: (o) => o.kind === "Secret" && o["type"] === "kubernetes.io/service-account-token",
    clear: (v) => {
      delete annotationsOf(v)["kubernetes.io/service-account.uid"]
      delete v["data"]
    }
  },
  {
    rule: "PersistentVolumeClaim: bound-by-controller not set again (the restored claim names its volume)",
    applies: (o) => o.kind === "PersistentVolumeClaim",
    clear: (v) => void delete annotationsOf(v)["pv.kubernetes.io/bound-by-controller"]
  },
  {
    rule: "PersistentVolume: claimRef.uid and resourceVersion name the restored claim",
    applies: (o) => o.kind === "PersistentVolume",
    clear: (v) => {
      const claimRef = record(specOf(v)["claimRef"])
      delete claimRef["uid"]
      delete claimRef["resourceVersion"]
    }
  }
]

/** The differences left after the documented transformations, one line each; and the rules that applied. */
const differences = (original: KubeObject, restored: KubeObject) => {
  const before = view(original)
  const after = view(restored)
  const applied: Array<string> = []
  for (const transformation of documented) {
    if (!transformation.applies(original)) continue
    transformation.clear(before)
    transformation.clear(after)
    applied.push(transformation.rule)
  }
  const lines: Array<string> = []
  const walk = (path: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) === JSON.stringify(b)) return
    const ra = typeof a === "object" && a !== null && !Array.isArray(a)
    const rb = typeof b === "object" && b !== null && !Array.isArray(b)
    if (ra && rb) {
      for (const key of new Set([...Object.keys(a as Json), ...Object.keys(b as Json)])) {
        walk(`${path}.${key}`, (a as Json)[key], (b as Json)[key])
      }
      return
    }
    lines.push(`${idOf(original)} ${path}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`)
  }
  walk("", before, after)
  return { lines, applied }
}

/**
 * Reads every hand-made object back after `restoreName` of `backupName`, checks Ark's labels on
 * it, and compares it with the original. Owned objects are compared only as far as Ark restores
 * them: it creates none (their controllers do).
 */
const compareRestored = (
  f: Fixture,
  originals: ReadonlyArray<KubeObject>,
  restoreName: string,
  backupName: string
) =>
  Effect.gen(function*() {
    yield* settled(f)
    const problems: Array<string> = []
    const used = new Set<string>()
    for (const original of originals) {
      const restored = yield* readObject(original).pipe(Effect.option)
      if (Option.isNone(restored)) {
        problems.push(`${idOf(original)}: not restored`)
        continue
      }
      const labels = restored.value.metadata.labels ?? {}
      if (
        labels[restoreNameLabel] !== nameLabelValue(restoreName) ||
        labels[backupNameLabel] !== nameLabelValue(backupName)
      ) {
        problems.push(`${idOf(original)}: restore labels ${JSON.stringify(labels)}`)
      }
      const { lines, applied } = differences(original, restored.value)
      problems.push(...lines)
      for (const rule of applied) used.add(rule)
    }
    // Objects a controller owns (the Deployment's ReplicaSet, the pods of every controller, the
    // revisions of the StatefulSet and DaemonSet) are recreated by their controllers, never by Ark.
    const madeByArk = new Set(originals.map(idOf))
    for (const kind of ["Pod", "ReplicaSet", "Job", "ControllerRevision"]) {
      const gvr = kind === "ControllerRevision" ? r("apps", "v1", "controllerrevisions") : kinds[kind]!.gvr
      const labelled = yield* listAll(gvr, f.namespace, `${restoreNameLabel}=${nameLabelValue(restoreName)}`)
      for (const object of labelled) {
        const id = idOf({ ...object, kind })
        if (!madeByArk.has(id)) problems.push(`${id}: created by the restore, but its controller owns it`)
      }
    }
    assert.deepStrictEqual(problems, [], problems.join("\n"))
    assert.sameMembers([...used], documented.map((t) => t.rule), "every documented transformation applies to something")
  })

/** The hand-made objects as the cluster holds them, once settled. */
const readOriginals = (f: Fixture) =>
  Effect.gen(function*() {
    yield* settled(f)
    return yield* Effect.forEach(handMade(f), readObject)
  })

const arkObject = (kind: string, name: string, namespace: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, namespace },
  spec
})

/** Creates a Backup or Restore and waits until it ends; it must be Completed without errors. */
const runToCompletion = (
  gvr: GroupVersionResource,
  object: KubeObject,
  server: ServerProcess
) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const name = object.metadata.name ?? ""
    const namespace = object.metadata.namespace ?? ""
    yield* kube.create(gvr, object)
    const done = yield* waitFor(
      `${gvr.resource}/${name} finished`,
      kube.get(gvr, name, namespace).pipe(Effect.map((current) => Option.some(current).pipe(Option.filter(finished)))),
      "300 seconds"
    ).pipe(Effect.tapError(() => Effect.sync(() => console.error(server.output()))))
    const status = statusOf(done)
    if (status["phase"] !== "Completed" || (status["errors"] ?? 0) !== 0) console.error(server.output())
    assert.strictEqual(status["phase"], "Completed", JSON.stringify(status))
    assert.strictEqual(status["errors"] ?? 0, 0, JSON.stringify(status))
    return done
  })

/** Removes the fixture afterwards, on the cluster of the current KubeClient. */
const cleanupAfterwards = (f: Fixture) =>
  Effect.flatMap(
    KubeClient,
    (kube) => Effect.addFinalizer(() => removeAll(f).pipe(Effect.provideService(KubeClient, kube), Effect.ignore))
  )

describe("restore fidelity through ark server", () => {
  it.live(
    "every hand-made kind round-trips in one cluster, and into the second through object-storage sync",
    () =>
      Effect.gen(function*() {
        const serverNs = `ark-it-fid-srv-${run}`
        const f = fixtureOf(`ark-it-fid-app-${run}`)
        const s3 = yield* sharedMinio(`ark-it-fid-${run}`)
        const one = yield* Layer.build(liveKube(1))
        const two = yield* Layer.build(liveKube(2))
        const backupName = "everything"

        // Cluster 1: the objects, a backup, the namespace and its cluster-scoped objects deleted, a restore.
        const originals = yield* Effect.gen(function*() {
          yield* serverNamespace(serverNs, s3)
          yield* cleanupAfterwards(f)
          yield* createAll(f)
          const originals = yield* readOriginals(f)
          const server = yield* arkServer(yield* kubeconfigOf(1), serverNs)
          yield* runToCompletion(
            arkGvr.backups,
            arkObject("Backup", backupName, serverNs, {
              includedNamespaces: [f.namespace],
              // The selector keeps the shared cluster's other cluster-scoped objects out; with it,
              // the IngressClass (related to nothing by Ark's rules) comes along.
              includeClusterResources: true,
              labelSelector: { matchLabels: pick },
              snapshotVolumes: false,
              ttl: "24h"
            }),
            server
          )
          yield* removeAll(f)
          yield* runToCompletion(arkGvr.restores, arkObject("Restore", "back", serverNs, { backupName }), server)
          yield* compareRestored(f, originals, "back", backupName)
          return originals
        }).pipe(Effect.provide(one))

        // Cluster 2: a restore-only server on the same location imports the backup; restore it there.
        yield* Effect.gen(function*() {
          yield* serverNamespace(serverNs, s3)
          yield* cleanupAfterwards(f)
          const server = yield* arkServer(yield* kubeconfigOf(2), serverNs, ["--restore-only"])
          yield* waitForImport(backupName, serverNs, server)
          yield* runToCompletion(arkGvr.restores, arkObject("Restore", "arrive", serverNs, { backupName }), server)
          yield* compareRestored(f, originals, "arrive", backupName)
        }).pipe(Effect.provide(two))
      }).pipe(Effect.scoped),
    1_200_000
  )

  it.live(
    "long names: a 100-character backup and a 110-character restore, a 120-character schedule, its restore and deletion",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const serverNs = `ark-it-long-srv-${run}`
        const app = `ark-it-long-app-${run}`
        const target = `ark-it-long-dst-${run}`
        yield* serverNamespace(serverNs, yield* sharedMinio(`ark-it-long-${run}`))
        for (const ns of [app, target]) {
          yield* Effect.addFinalizer(() => kube.delete(kinds.Namespace!.gvr, ns).pipe(Effect.ignore))
        }
        yield* kube.create(kinds.Namespace!.gvr, { apiVersion: "v1", kind: "Namespace", metadata: { name: app } })
        yield* kube.create(kinds.ConfigMap!.gvr, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "settings", namespace: app },
          data: { k: "v" }
        })
        yield* kube.create(kinds.Job!.gvr, {
          apiVersion: "batch/v1",
          kind: "Job",
          metadata: { name: "j", namespace: app },
          // Suspended, so it is still unfinished when backed up (kwok completes a Job's pods at once).
          spec: {
            suspend: true,
            template: { spec: { containers: [{ name: "j", image: "busybox" }], restartPolicy: "Never" } }
          }
        })
        const server = yield* arkServer(yield* kubeconfigOf(1), serverNs)

        const backupName = `long-backup-${run}-${"b".repeat(100 - 21)}`
        const restoreName = `long-restore-${run}-${"r".repeat(110 - 22)}`
        assert.lengthOf(backupName, 100)
        assert.lengthOf(restoreName, 110)
        yield* runToCompletion(
          arkGvr.backups,
          arkObject("Backup", backupName, serverNs, { includedNamespaces: [app], ttl: "24h" }),
          server
        )
        yield* runToCompletion(
          arkGvr.restores,
          arkObject("Restore", restoreName, serverNs, { backupName, namespaceMapping: { [app]: target } }),
          server
        )
        for (const [gvr, name] of [[kinds.ConfigMap!.gvr, "settings"], [kinds.Job!.gvr, "j"]] as const) {
          const restored = yield* kube.get(gvr, name, target)
          assert.deepInclude(restored.metadata.labels ?? {}, {
            [backupNameLabel]: nameLabelValue(backupName),
            [restoreNameLabel]: nameLabelValue(restoreName)
          })
          assert.deepInclude(restored.metadata.annotations ?? {}, {
            [backupNameLabel]: backupName,
            [restoreNameLabel]: restoreName
          })
        }

        // A schedule of 120 characters: its backups are labelled with the short form and found by it.
        const scheduleName = `long-schedule-${run}-${"s".repeat(120 - 23)}`
        assert.lengthOf(scheduleName, 120)
        yield* kube.create(
          arkGvr.schedules,
          arkObject("Schedule", scheduleName, serverNs, {
            schedule: "0 3 * * *",
            template: { includedNamespaces: [app], ttl: "1h" }
          })
        )
        const scheduled = yield* waitFor(
          "the long schedule's first backup, Completed",
          listAll(arkGvr.backups, serverNs, nameSelector(scheduleNameLabel, scheduleName)).pipe(
            Effect.map((items) =>
              Option.fromNullable(
                items.find((b) => namesIt(b, scheduleNameLabel, scheduleName) && statusOf(b)["phase"] === "Completed")
              )
            )
          ),
          "180 seconds"
        ).pipe(Effect.tapError(() => Effect.sync(() => console.error(server.output()))))
        assert.match(scheduled.metadata.name ?? "", new RegExp(`^${scheduleName}-\\d{14}$`))
        const fromSchedule = yield* runToCompletion(
          arkGvr.restores,
          arkObject("Restore", `${restoreName}-2`, serverNs, {
            scheduleName,
            namespaceMapping: { [app]: target },
            existingResourcePolicy: "none"
          }),
          server
        )
        assert.strictEqual(record(fromSchedule["spec"])["backupName"], scheduled.metadata.name)

        // Deleting the long backup: the request is labelled with the short form; the backup and its
        // restore go.
        const request = newDeleteBackupRequest(backupName, serverNs)
        yield* kube.create(arkGvr.deleteBackupRequests, request)
        yield* waitForGone(arkGvr.backups, backupName, serverNs).pipe(
          Effect.tapError(() => Effect.sync(() => console.error(server.output())))
        )
        yield* waitForGone(arkGvr.restores, restoreName, serverNs)
        const requests = yield* listAll(
          arkGvr.deleteBackupRequests,
          serverNs,
          nameSelector(backupNameLabel, backupName)
        )
        assert.isTrue(requests.some((item) => namesIt(item, backupNameLabel, backupName)))
      }).pipe(Effect.scoped, Effect.provide(liveKube(1))),
    600_000
  )
})
