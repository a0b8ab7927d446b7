// The built-in resources a Kubernetes 1.34 API server serves (the subset Ark cares about), as
// discovery reports them in each group's preferred version.
import type { ApiResource } from "../../services/KubeClient.ts"

const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] as const

interface Row {
  readonly resource: string
  readonly kind: string
  readonly namespaced: boolean
  readonly shortNames?: ReadonlyArray<string>
  readonly status?: boolean
  readonly verbs?: ReadonlyArray<string>
}

const group = (groupName: string, version: string, rows: ReadonlyArray<Row>): Array<ApiResource> =>
  rows.map((row) => ({
    group: groupName,
    version,
    resource: row.resource,
    kind: row.kind,
    namespaced: row.namespaced,
    verbs: row.verbs ?? ALL_VERBS,
    shortNames: row.shortNames ?? [],
    singularName: row.kind.toLowerCase(),
    statusSubresource: row.status ?? false
  }))

export const builtinResources: ReadonlyArray<ApiResource> = [
  ...group("", "v1", [
    {
      resource: "namespaces",
      kind: "Namespace",
      namespaced: false,
      shortNames: ["ns"],
      status: true,
      verbs: ["create", "delete", "get", "list", "patch", "update", "watch"]
    },
    { resource: "pods", kind: "Pod", namespaced: true, shortNames: ["po"], status: true },
    { resource: "services", kind: "Service", namespaced: true, shortNames: ["svc"], status: true },
    { resource: "endpoints", kind: "Endpoints", namespaced: true, shortNames: ["ep"] },
    { resource: "configmaps", kind: "ConfigMap", namespaced: true, shortNames: ["cm"] },
    { resource: "secrets", kind: "Secret", namespaced: true },
    { resource: "serviceaccounts", kind: "ServiceAccount", namespaced: true, shortNames: ["sa"] },
    { resource: "persistentvolumes", kind: "PersistentVolume", namespaced: false, shortNames: ["pv"], status: true },
    {
      resource: "persistentvolumeclaims",
      kind: "PersistentVolumeClaim",
      namespaced: true,
      shortNames: ["pvc"],
      status: true
    },
    { resource: "nodes", kind: "Node", namespaced: false, shortNames: ["no"], status: true },
    { resource: "events", kind: "Event", namespaced: true, shortNames: ["ev"] },
    { resource: "limitranges", kind: "LimitRange", namespaced: true, shortNames: ["limits"] },
    { resource: "resourcequotas", kind: "ResourceQuota", namespaced: true, shortNames: ["quota"], status: true },
    {
      resource: "replicationcontrollers",
      kind: "ReplicationController",
      namespaced: true,
      shortNames: ["rc"],
      status: true
    },
    { resource: "podtemplates", kind: "PodTemplate", namespaced: true }
  ]),
  ...group("apps", "v1", [
    { resource: "deployments", kind: "Deployment", namespaced: true, shortNames: ["deploy"], status: true },
    { resource: "replicasets", kind: "ReplicaSet", namespaced: true, shortNames: ["rs"], status: true },
    { resource: "statefulsets", kind: "StatefulSet", namespaced: true, shortNames: ["sts"], status: true },
    { resource: "daemonsets", kind: "DaemonSet", namespaced: true, shortNames: ["ds"], status: true },
    { resource: "controllerrevisions", kind: "ControllerRevision", namespaced: true }
  ]),
  ...group("batch", "v1", [
    { resource: "jobs", kind: "Job", namespaced: true, status: true },
    { resource: "cronjobs", kind: "CronJob", namespaced: true, shortNames: ["cj"], status: true }
  ]),
  ...group("rbac.authorization.k8s.io", "v1", [
    { resource: "roles", kind: "Role", namespaced: true },
    { resource: "rolebindings", kind: "RoleBinding", namespaced: true },
    { resource: "clusterroles", kind: "ClusterRole", namespaced: false },
    { resource: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false }
  ]),
  ...group("storage.k8s.io", "v1", [
    { resource: "storageclasses", kind: "StorageClass", namespaced: false, shortNames: ["sc"] },
    // CSIDriver and VolumeAttachment are cluster-scoped on the real server.
    { resource: "csidrivers", kind: "CSIDriver", namespaced: false },
    { resource: "volumeattachments", kind: "VolumeAttachment", namespaced: false, status: true }
  ]),
  ...group("apiextensions.k8s.io", "v1", [
    {
      resource: "customresourcedefinitions",
      kind: "CustomResourceDefinition",
      namespaced: false,
      shortNames: ["crd", "crds"],
      status: true
    }
  ]),
  ...group("coordination.k8s.io", "v1", [{ resource: "leases", kind: "Lease", namespaced: true }]),
  ...group("events.k8s.io", "v1", [{ resource: "events", kind: "Event", namespaced: true, shortNames: ["ev"] }]),
  ...group("networking.k8s.io", "v1", [
    { resource: "ingresses", kind: "Ingress", namespaced: true, shortNames: ["ing"], status: true },
    { resource: "networkpolicies", kind: "NetworkPolicy", namespaced: true, shortNames: ["netpol"] },
    { resource: "ingressclasses", kind: "IngressClass", namespaced: false }
  ]),
  ...group("policy", "v1", [
    {
      resource: "poddisruptionbudgets",
      kind: "PodDisruptionBudget",
      namespaced: true,
      shortNames: ["pdb"],
      status: true
    }
  ]),
  ...group("scheduling.k8s.io", "v1", [{
    resource: "priorityclasses",
    kind: "PriorityClass",
    namespaced: false,
    shortNames: ["pc"]
  }]),
  ...group("discovery.k8s.io", "v1", [{ resource: "endpointslices", kind: "EndpointSlice", namespaced: true }])
]
