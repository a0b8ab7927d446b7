// Every restore transform and skip (docs/design.md, "Restore semantics"), as a table of before → after.
import { assert, describe, it } from "@effect/vitest"

import type { KubeObject } from "../../services/KubeClient.ts"
import { backupNameLabel, nameLabelValue, restoreNameLabel } from "../../src/api/index.ts"
import { defaultRestoreActions } from "../../src/restore/actions.ts"
import { diffLines, mergePatchBetween } from "../../src/restore/compare.ts"
import type { RestoreContext } from "../../src/restore/transforms.ts"
import { comparable, transformItem } from "../../src/restore/transforms.ts"

const context: RestoreContext = { restoreName: "r1", backupName: "b1", namespaceMapping: { abc: "def", "123": "456" } }
const arkLabels = { [restoreNameLabel]: "r1", [backupNameLabel]: "b1" }

const object = (
  apiVersion: string,
  kind: string,
  metadata: Record<string, unknown>,
  rest: Record<string, unknown> = {}
): KubeObject => ({ apiVersion, kind, metadata, ...rest })

const serverMeta = {
  uid: "u-1",
  resourceVersion: "42",
  selfLink: "/api/v1/x",
  creationTimestamp: "2024-01-01T00:00:00Z",
  deletionTimestamp: "2024-01-02T00:00:00Z",
  deletionGracePeriodSeconds: 30,
  generation: 3,
  managedFields: [{ manager: "kubectl" }]
}

interface TransformCase {
  readonly rule: string
  readonly resource: string
  readonly before: KubeObject
  readonly after: KubeObject
}

const lastApplied = (spec: unknown) => JSON.stringify({ apiVersion: "v1", kind: "Service", spec })

const transformCases: ReadonlyArray<TransformCase> = [
  {
    rule: "server-managed metadata, status and owner references are dropped; labels added",
    resource: "configmaps",
    before: object("v1", "ConfigMap", {
      name: "c",
      namespace: "other",
      labels: { app: "x" },
      ...serverMeta,
      ownerReferences: [{ apiVersion: "v1", kind: "Foo", name: "f", uid: "u-0", controller: false }]
    }, { data: { k: "v" }, status: { x: 1 } }),
    after: object("v1", "ConfigMap", { name: "c", namespace: "other", labels: { app: "x", ...arkLabels } }, {
      data: { k: "v" }
    })
  },
  {
    rule: "namespaceMapping moves metadata.namespace",
    resource: "secrets",
    before: object("v1", "Secret", { name: "s", namespace: "abc" }, { type: "Opaque" }),
    after: object("v1", "Secret", { name: "s", namespace: "def", labels: arkLabels }, { type: "Opaque" })
  },
  {
    rule: "a Namespace is restored under its mapped name, its name label follows",
    resource: "namespaces",
    before: object("v1", "Namespace", { name: "123", labels: { "kubernetes.io/metadata.name": "123", team: "a" } }, {
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" }
    }),
    after: object("v1", "Namespace", {
      name: "456",
      labels: { "kubernetes.io/metadata.name": "456", team: "a", ...arkLabels }
    }, {
      spec: { finalizers: ["kubernetes"] }
    })
  },
  {
    rule: "Service: clusterIP(s) cleared, nodePorts cleared without last-applied configuration",
    resource: "services",
    before: object("v1", "Service", { name: "web", namespace: "abc" }, {
      spec: {
        type: "NodePort",
        clusterIP: "10.0.0.7",
        clusterIPs: ["10.0.0.7"],
        healthCheckNodePort: 31000,
        ports: [{ name: "http", port: 80, nodePort: 30080 }, { port: 81, nodePort: 30081 }]
      },
      status: { loadBalancer: {} }
    }),
    after: object("v1", "Service", { name: "web", namespace: "def", labels: arkLabels }, {
      spec: { type: "NodePort", ports: [{ name: "http", port: 80 }, { port: 81 }] }
    })
  },
  {
    rule: "Service: nodePorts named in kubectl's last-applied configuration are kept",
    resource: "services",
    before: object("v1", "Service", {
      name: "web",
      namespace: "x",
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": lastApplied({
          ports: [{ name: "http", nodePort: 30080 }, { nodePort: 30090 }]
        })
      }
    }, {
      spec: {
        type: "LoadBalancer",
        clusterIP: "10.0.0.8",
        ports: [{ name: "http", port: 80, nodePort: 30080 }, { name: "https", port: 443, nodePort: 30443 }, {
          port: 90,
          nodePort: 30090
        }]
      }
    }),
    after: object("v1", "Service", {
      name: "web",
      namespace: "x",
      labels: arkLabels,
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": lastApplied({
          ports: [{ name: "http", nodePort: 30080 }, { nodePort: 30090 }]
        })
      }
    }, {
      spec: {
        type: "LoadBalancer",
        ports: [{ name: "http", port: 80, nodePort: 30080 }, { name: "https", port: 443 }, {
          port: 90,
          nodePort: 30090
        }]
      }
    })
  },
  {
    rule: "Service: headless clusterIP None is kept",
    resource: "services",
    before: object("v1", "Service", { name: "db", namespace: "x" }, {
      spec: { clusterIP: "None", clusterIPs: ["None"], ports: [{ port: 5432 }] }
    }),
    after: object("v1", "Service", { name: "db", namespace: "x", labels: arkLabels }, {
      spec: { clusterIP: "None", clusterIPs: ["None"], ports: [{ port: 5432 }] }
    })
  },
  {
    rule: "Pod: nodeName cleared",
    resource: "pods",
    before: object("v1", "Pod", { name: "p", namespace: "abc" }, {
      spec: { nodeName: "node-1", containers: [] },
      status: { phase: "Running" }
    }),
    after: object("v1", "Pod", { name: "p", namespace: "def", labels: arkLabels }, { spec: { containers: [] } })
  },
  {
    rule: "PVC: bind annotations dropped, volumeName kept",
    resource: "persistentvolumeclaims",
    before: object("v1", "PersistentVolumeClaim", {
      name: "data",
      namespace: "abc",
      annotations: {
        "pv.kubernetes.io/bind-completed": "yes",
        "pv.kubernetes.io/bound-by-controller": "yes",
        "volume.kubernetes.io/selected-node": "node-1",
        keep: "me"
      }
    }, { spec: { volumeName: "pv-1" }, status: { phase: "Bound" } }),
    after: object("v1", "PersistentVolumeClaim", {
      name: "data",
      namespace: "def",
      labels: arkLabels,
      annotations: { keep: "me" }
    }, {
      spec: { volumeName: "pv-1" }
    })
  },
  {
    rule: "PV: claimRef namespace mapped, its uid and resourceVersion cleared",
    resource: "persistentvolumes",
    before: object("v1", "PersistentVolume", { name: "pv-1" }, {
      spec: {
        claimRef: { kind: "PersistentVolumeClaim", namespace: "abc", name: "data", uid: "u-9", resourceVersion: "7" },
        hostPath: { path: "/d" }
      },
      status: { phase: "Bound" }
    }),
    after: object("v1", "PersistentVolume", { name: "pv-1", labels: arkLabels }, {
      spec: { claimRef: { kind: "PersistentVolumeClaim", namespace: "def", name: "data" }, hostPath: { path: "/d" } }
    })
  },
  {
    rule: "RoleBinding: ServiceAccount subjects follow the mapping, users do not",
    resource: "rolebindings.rbac.authorization.k8s.io",
    before: object("rbac.authorization.k8s.io/v1", "RoleBinding", { name: "rb", namespace: "abc" }, {
      subjects: [{ kind: "ServiceAccount", name: "sa", namespace: "abc" }, {
        kind: "ServiceAccount",
        name: "o",
        namespace: "zzz"
      }, { kind: "User", name: "bob" }],
      roleRef: { kind: "Role", name: "r" }
    }),
    after: object("rbac.authorization.k8s.io/v1", "RoleBinding", { name: "rb", namespace: "def", labels: arkLabels }, {
      subjects: [{ kind: "ServiceAccount", name: "sa", namespace: "def" }, {
        kind: "ServiceAccount",
        name: "o",
        namespace: "zzz"
      }, { kind: "User", name: "bob" }],
      roleRef: { kind: "Role", name: "r" }
    })
  },
  {
    rule: "ClusterRoleBinding: ServiceAccount subjects follow the mapping",
    resource: "clusterrolebindings.rbac.authorization.k8s.io",
    before: object("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", { name: "crb" }, {
      subjects: [{ kind: "ServiceAccount", name: "sa", namespace: "123" }],
      roleRef: { kind: "ClusterRole", name: "view" }
    }),
    after: object("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", { name: "crb", labels: arkLabels }, {
      subjects: [{ kind: "ServiceAccount", name: "sa", namespace: "456" }],
      roleRef: { kind: "ClusterRole", name: "view" }
    })
  },
  {
    rule: "ServiceAccount: generated token secrets dropped",
    resource: "serviceaccounts",
    before: object("v1", "ServiceAccount", { name: "build", namespace: "x" }, {
      secrets: [{ name: "build-token-abcde" }, { name: "registry" }]
    }),
    after: object("v1", "ServiceAccount", { name: "build", namespace: "x", labels: arkLabels }, {
      secrets: [{ name: "registry" }]
    })
  },
  {
    rule: "ServiceAccount token Secret: the old account's uid and the controller's token, CA and namespace go",
    resource: "secrets",
    before: object("v1", "Secret", {
      name: "builder-token",
      namespace: "x",
      annotations: { "kubernetes.io/service-account.name": "builder", "kubernetes.io/service-account.uid": "u-0" }
    }, {
      type: "kubernetes.io/service-account-token",
      data: { token: "dA==", "ca.crt": "Yw==", namespace: "eA==", extra: "ZQ==" }
    }),
    after: object("v1", "Secret", {
      name: "builder-token",
      namespace: "x",
      annotations: { "kubernetes.io/service-account.name": "builder" },
      labels: arkLabels
    }, { type: "kubernetes.io/service-account-token", data: { extra: "ZQ==" } })
  },
  {
    rule: "Job: the generated selector and the template's controller-uid labels go; job-name labels stay",
    resource: "jobs.batch",
    before: object("batch/v1", "Job", { name: "j", namespace: "x" }, {
      spec: {
        selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u-1" } },
        template: {
          metadata: {
            labels: {
              "controller-uid": "u-1",
              "batch.kubernetes.io/controller-uid": "u-1",
              "job-name": "j",
              "batch.kubernetes.io/job-name": "j",
              app: "a"
            }
          },
          spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] }
        }
      }
    }),
    after: object("batch/v1", "Job", { name: "j", namespace: "x", labels: arkLabels }, {
      spec: {
        template: {
          metadata: { labels: { "job-name": "j", "batch.kubernetes.io/job-name": "j", app: "a" } },
          spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] }
        }
      }
    })
  },
  {
    rule: "Job: a manual selector and its template labels are the user's, kept",
    resource: "jobs.batch",
    before: object("batch/v1", "Job", { name: "j", namespace: "x" }, {
      spec: {
        manualSelector: true,
        selector: { matchLabels: { "controller-uid": "mine" } },
        template: { metadata: { labels: { "controller-uid": "mine" } }, spec: { containers: [] } }
      }
    }),
    after: object("batch/v1", "Job", { name: "j", namespace: "x", labels: arkLabels }, {
      spec: {
        manualSelector: true,
        selector: { matchLabels: { "controller-uid": "mine" } },
        template: { metadata: { labels: { "controller-uid": "mine" } }, spec: { containers: [] } }
      }
    })
  },
  {
    rule: "Job: a template without labels loses only the selector",
    resource: "jobs.batch",
    before: object("batch/v1", "Job", { name: "j", namespace: "x" }, {
      spec: { selector: { matchLabels: { "controller-uid": "u-1" } }, template: { spec: { containers: [] } } }
    }),
    after: object("batch/v1", "Job", { name: "j", namespace: "x", labels: arkLabels }, {
      spec: { template: { spec: { containers: [] } } }
    })
  }
]

interface SkipCase {
  readonly rule: string
  readonly resource: string
  readonly object: KubeObject
  readonly reason: string | undefined
}

const skipCases: ReadonlyArray<SkipCase> = [
  { rule: "nodes", resource: "nodes", object: object("v1", "Node", { name: "n" }), reason: "nodes are never restored" },
  {
    rule: "events",
    resource: "events",
    object: object("v1", "Event", { name: "e", namespace: "x" }),
    reason: "events are never restored"
  },
  {
    rule: "events.k8s.io events",
    resource: "events.events.k8s.io",
    object: object("events.k8s.io/v1", "Event", { name: "e", namespace: "x" }),
    reason: "events.events.k8s.io are never restored"
  },
  {
    rule: "Ark backups",
    resource: "backups.ark.heptio.com",
    object: object("ark.heptio.com/v1", "Backup", { name: "b" }),
    reason: "backups.ark.heptio.com are never restored"
  },
  {
    rule: "Ark restores",
    resource: "restores.ark.heptio.com",
    object: object("ark.heptio.com/v1", "Restore", { name: "r" }),
    reason: "restores.ark.heptio.com are never restored"
  },
  {
    rule: "mirror pods",
    resource: "pods",
    object: object("v1", "Pod", { name: "p", namespace: "x", annotations: { "kubernetes.io/config.mirror": "abc" } }),
    reason: "mirror pod, which the kubelet recreates from its static manifest"
  },
  {
    rule: "succeeded pods",
    resource: "pods",
    object: object("v1", "Pod", { name: "p", namespace: "x" }, { status: { phase: "Succeeded" } }),
    reason: "pod has finished (phase Succeeded)"
  },
  {
    rule: "failed pods",
    resource: "pods",
    object: object("v1", "Pod", { name: "p", namespace: "x" }, { status: { phase: "Failed" } }),
    reason: "pod has finished (phase Failed)"
  },
  {
    rule: "running pods are restored",
    resource: "pods",
    object: object("v1", "Pod", { name: "p", namespace: "x" }, { status: { phase: "Running" } }),
    reason: undefined
  },
  {
    rule: "complete jobs",
    resource: "jobs.batch",
    object: object("batch/v1", "Job", { name: "j", namespace: "x" }, {
      status: { conditions: [{ type: "Complete", status: "True" }] }
    }),
    reason: "job has finished (Complete)"
  },
  {
    rule: "failed jobs",
    resource: "jobs.batch",
    object: object("batch/v1", "Job", { name: "j", namespace: "x" }, {
      status: { conditions: [{ type: "Failed", status: "True" }] }
    }),
    reason: "job has finished (Failed)"
  },
  {
    rule: "running jobs are restored",
    resource: "jobs.batch",
    object: object("batch/v1", "Job", { name: "j", namespace: "x" }, {
      status: { conditions: [{ type: "Complete", status: "False" }] }
    }),
    reason: undefined
  },
  {
    rule: "controller-managed endpoints",
    resource: "endpoints",
    object: object("v1", "Endpoints", {
      name: "web",
      namespace: "x",
      labels: { "endpoints.kubernetes.io/managed-by": "endpoint-controller" }
    }),
    reason: "endpoints managed by the endpoints controller, which recreates them for the restored Service"
  },
  {
    rule: "hand-written endpoints are restored",
    resource: "endpoints",
    object: object("v1", "Endpoints", { name: "db", namespace: "x" }),
    reason: undefined
  },
  {
    rule: "configmaps are restored",
    resource: "configmaps",
    object: object("v1", "ConfigMap", { name: "c", namespace: "x" }),
    reason: undefined
  }
]

describe("restore transforms", () => {
  for (const testCase of transformCases) {
    it(testCase.rule, () => {
      assert.deepStrictEqual(transformItem(testCase.resource, testCase.before, context), testCase.after)
    })
  }

  it("never mutates its input", () => {
    for (const testCase of transformCases) {
      const copy = structuredClone(testCase.before)
      transformItem(testCase.resource, testCase.before, context)
      assert.deepStrictEqual(testCase.before, copy, testCase.rule)
    }
  })

  it("comparable: a transformed object equals its live copy after the server fills in its own fields", () => {
    for (const testCase of transformCases) {
      const live: KubeObject = {
        ...testCase.after,
        metadata: {
          ...testCase.after.metadata,
          uid: "new",
          resourceVersion: "9",
          creationTimestamp: "2025-01-01T00:00:00Z",
          generation: 1
        },
        status: { anything: true }
      }
      assert.deepStrictEqual(
        comparable(testCase.resource, live),
        comparable(testCase.resource, testCase.after),
        testCase.rule
      )
    }
  })

  it("preserveNodePorts: every nodePort and the healthCheckNodePort are kept; clusterIPs still go", () => {
    const service = object("v1", "Service", { name: "web", namespace: "abc" }, {
      spec: {
        type: "LoadBalancer",
        clusterIP: "10.0.0.7",
        clusterIPs: ["10.0.0.7"],
        healthCheckNodePort: 31000,
        ports: [{ name: "http", port: 80, nodePort: 30080 }, { port: 81, nodePort: 30081 }]
      }
    })
    const preserved = transformItem("services", service, { ...context, preserveNodePorts: true })
    assert.deepStrictEqual(
      preserved["spec"],
      {
        type: "LoadBalancer",
        healthCheckNodePort: 31000,
        ports: [{ name: "http", port: 80, nodePort: 30080 }, { port: 81, nodePort: 30081 }]
      }
    )
    const byDefault = transformItem("services", service, context)
    assert.deepStrictEqual(byDefault["spec"], {
      type: "LoadBalancer",
      ports: [{ name: "http", port: 80 }, { port: 81 }]
    })
    // Compared with preserveNodePorts, a live Service on other nodePorts differs; by default it does not.
    const live = {
      ...preserved,
      spec: {
        ...(preserved["spec"] as object),
        ports: [{ name: "http", port: 80, nodePort: 31111 }, { port: 81, nodePort: 30081 }]
      }
    }
    assert.deepStrictEqual(
      diffLines(
        comparable("services", live, { preserveNodePorts: true }),
        comparable("services", preserved, { preserveNodePorts: true })
      ),
      ["spec.ports[0].nodePort: 31111 → 30080"]
    )
    assert.deepStrictEqual(diffLines(comparable("services", live), comparable("services", preserved)), [])
  })

  it("comparable: ignores the labels of another restore, sees every other difference", () => {
    const mine = transformCases[0]!.after
    const other: KubeObject = {
      ...mine,
      metadata: { ...mine.metadata, labels: { app: "x", [restoreNameLabel]: "r0", [backupNameLabel]: "b0" } }
    }
    assert.deepStrictEqual(comparable("configmaps", other), comparable("configmaps", mine))
    const changed: KubeObject = { ...mine, data: { k: "w" } }
    assert.deepStrictEqual(diffLines(comparable("configmaps", changed), comparable("configmaps", mine)), [
      "data.k: \"w\" → \"v\""
    ])
  })

  it("long restore and backup names: label values that fit, full names as annotations; comparable ignores both", () => {
    const long: RestoreContext = { restoreName: "r".repeat(100), backupName: "b".repeat(96), namespaceMapping: {} }
    const before = object("v1", "ConfigMap", { name: "c", namespace: "x", annotations: { note: "n" } }, {
      data: { k: "v" }
    })
    const restored = transformItem("configmaps", before, long)
    assert.deepStrictEqual(restored.metadata, {
      name: "c",
      namespace: "x",
      labels: {
        [restoreNameLabel]: nameLabelValue(long.restoreName),
        [backupNameLabel]: nameLabelValue(long.backupName)
      },
      annotations: { note: "n", [restoreNameLabel]: long.restoreName, [backupNameLabel]: long.backupName }
    })
    for (const value of Object.values(restored.metadata.labels ?? {})) assert.isAtMost(value.length, 63)
    assert.deepStrictEqual(comparable("configmaps", restored), comparable("configmaps", before))
  })

  it("diffLines: label keys quoted, missing values shown, long values cut, at most 10 lines", () => {
    assert.deepStrictEqual(
      diffLines({ metadata: { labels: { "app.kubernetes.io/name": "a" } }, spec: { replicas: 3 } }, {
        metadata: { labels: {} },
        spec: { replicas: 2, paused: true }
      }),
      [
        "metadata.labels[\"app.kubernetes.io/name\"]: \"a\" → (none)",
        "spec.paused: (none) → true",
        "spec.replicas: 3 → 2"
      ]
    )
    const [line] = diffLines({ data: { k: "x".repeat(200) } }, { data: { k: "y" } })
    assert.isTrue(line !== undefined && line.length < 100 && line.includes("…"))
    const many = diffLines(
      Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${String(i).padStart(2, "0")}`, i])),
      {}
    )
    assert.strictEqual(many.length, 11)
    assert.strictEqual(many[10], "… and 5 more differences")
  })

  it("mergePatchBetween: sets what changed, nulls what went, recurses into objects", () => {
    assert.deepStrictEqual(
      mergePatchBetween({ a: 1, b: { c: 1, d: 2 }, e: [1], gone: "x" }, { a: 1, b: { c: 2, d: 2 }, e: [1, 2] }),
      { b: { c: 2 }, e: [1, 2], gone: null }
    )
  })
})

describe("restore skips", () => {
  for (const testCase of skipCases) {
    it(testCase.rule, () => {
      assert.strictEqual(defaultRestoreActions.skip(testCase.resource, testCase.object), testCase.reason)
    })
  }
})
