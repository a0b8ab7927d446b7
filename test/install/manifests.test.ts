// manifests/ as kustomize renders it and as `ark install` reads it: the objects, the Deployment's
// hardening, the rights of each variant, and the restore-only variant differing only where it should.
import { fileURLToPath } from "node:url"

import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"

import packageJson from "../../package.json" with { type: "json" }
import type { KubeObject } from "../../services/KubeClient.ts"
import { kindList } from "../../src/api/index.ts"
import { renderKustomization } from "../../src/install/kustomize.ts"
import { resourceOf } from "../../src/install/resources.ts"
import { leaseName } from "../../src/server/main.ts"

const manifests = fileURLToPath(new URL("../../manifests", import.meta.url))
const platform = Layer.merge(NodeFileSystem.layer, NodePath.layer)

const render = (directory: string) => renderKustomization(directory).pipe(Effect.provide(platform))
const full = render(manifests)
const restoreOnly = render(`${manifests}/restore-only`)

const id = (object: KubeObject) => `${object.kind} ${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`
const find = (objects: ReadonlyArray<KubeObject>, kind: string, name: string) => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name)
  assert.isDefined(found, `${kind} ${name}`)
  return found!
}

interface Rule {
  readonly apiGroups: ReadonlyArray<string>
  readonly resources: ReadonlyArray<string>
  readonly resourceNames?: ReadonlyArray<string>
  readonly verbs: ReadonlyArray<string>
}
const rules = (object: KubeObject) => object["rules"] as ReadonlyArray<Rule>

/**
 * RBAC's matching: `*` matches any group, any resource (subresources too) and any verb; a rule
 * with resourceNames matches only a request for one of those names.
 */
const allows = (granted: ReadonlyArray<Rule>, group: string, resource: string, verb: string, name?: string) =>
  granted.some((rule) =>
    (rule.apiGroups.includes("*") || rule.apiGroups.includes(group)) &&
    (rule.resources.includes("*") || rule.resources.includes(resource)) &&
    (rule.verbs.includes("*") || rule.verbs.includes(verb)) &&
    (rule.resourceNames === undefined || (name !== undefined && rule.resourceNames.includes(name)))
  )

/** What the ServiceAccount may do cluster-wide and in its namespace, through the rendered bindings. */
const grants = (objects: ReadonlyArray<KubeObject>) => {
  const bound = (bindingKind: string, roleKind: string) =>
    objects
      .filter((object) => object.kind === bindingKind)
      .filter((binding) =>
        (binding["subjects"] as ReadonlyArray<{ kind: string; name: string; namespace?: string }>).some((subject) =>
          subject.kind === "ServiceAccount" && subject.name === "ark" && subject.namespace === "heptio-ark"
        )
      )
      .flatMap((binding) => rules(find(objects, roleKind, (binding["roleRef"] as { name: string }).name)))
  return { cluster: bound("ClusterRoleBinding", "ClusterRole"), namespace: bound("RoleBinding", "Role") }
}

describe("manifests/", () => {
  it.effect("holds the namespace, every CRD, the ServiceAccount, RBAC and the Deployment", () =>
    Effect.gen(function*() {
      const objects = yield* full
      assert.sameMembers(objects.map(id), [
        "Namespace /heptio-ark",
        ...kindList.map((info) => `CustomResourceDefinition /${info.plural}.ark.heptio.com`),
        "ServiceAccount heptio-ark/ark",
        "ClusterRole /ark-restore",
        "ClusterRoleBinding /ark-restore",
        "Role heptio-ark/ark",
        "RoleBinding heptio-ark/ark",
        "ClusterRole /ark-backup",
        "ClusterRoleBinding /ark-backup",
        "Role heptio-ark/ark-backup",
        "RoleBinding heptio-ark/ark-backup",
        "Deployment heptio-ark/ark"
      ])
      for (const object of objects) {
        assert.isTrue(Option.isSome(resourceOf(object)), `install knows the resource of ${id(object)}`)
        assert.strictEqual(object.metadata.labels?.["component"], "ark", `${id(object)} is labelled component=ark`)
      }
    }))

  it.effect("the Deployment runs `ark server` as a hardened non-root container with probes on the metrics port", () =>
    Effect.gen(function*() {
      const deployment = find(yield* full, "Deployment", "ark") as any
      const pod = deployment.spec.template.spec
      assert.strictEqual(pod.serviceAccountName, "ark")
      assert.isTrue(pod.securityContext.runAsNonRoot)
      assert.notStrictEqual(pod.securityContext.runAsUser, 0)
      assert.strictEqual(pod.securityContext.seccompProfile.type, "RuntimeDefault")
      assert.lengthOf(pod.containers, 1)
      const [container] = pod.containers
      assert.strictEqual(container.image, `ark:${packageJson.version}`, "the image tag follows package.json")
      assert.strictEqual(container.args[0], "server")
      assert.include(container.args, "--metrics-address=:8085")
      assert.include(container.args, "--log-format=json")
      assert.include(container.args, "--namespace=$(ARK_NAMESPACE)")
      assert.deepStrictEqual(container.env, [{
        name: "ARK_NAMESPACE",
        valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } }
      }])
      assert.deepStrictEqual(container.ports, [{ name: "metrics", containerPort: 8085, protocol: "TCP" }])
      assert.deepStrictEqual(container.livenessProbe.httpGet, { path: "/healthz", port: "metrics" })
      assert.deepStrictEqual(container.readinessProbe.httpGet, { path: "/readyz", port: "metrics" })
      assert.deepStrictEqual(container.securityContext, {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] }
      })
      for (const kind of ["requests", "limits"]) {
        assert.isString(container.resources[kind].cpu, `${kind}.cpu`)
        assert.isString(container.resources[kind].memory, `${kind}.memory`)
      }
      // The server reads credentials through the API: nothing about them is mounted or in the environment.
      assert.notInclude(JSON.stringify(deployment), "cloud-credentials")
      assert.deepStrictEqual(pod.volumes, [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }])
    }))

  it.effect("the full server reads everything, execs for hooks, and deletes only Ark's kinds in its namespace", () =>
    Effect.gen(function*() {
      const { cluster, namespace } = grants(yield* full)
      for (const [group, resource] of [["", "secrets"], ["apps", "deployments"], ["example.com", "widgets"]] as const) {
        for (const verb of ["get", "list", "watch", "create", "patch"]) {
          assert.isTrue(allows(cluster, group, resource, verb), `${verb} ${resource}.${group}`)
        }
        assert.isFalse(allows(cluster, group, resource, "delete"), `no delete on ${resource}.${group}`)
        assert.isFalse(allows(cluster, group, resource, "deletecollection"))
      }
      assert.isTrue(allows(cluster, "", "pods/exec", "create"))
      assert.isTrue(allows(cluster, "rbac.authorization.k8s.io", "clusterroles", "escalate"))
      assert.isTrue(allows(cluster, "rbac.authorization.k8s.io", "clusterroles", "bind"))
      for (const kind of kindList) {
        for (const verb of ["create", "update", "patch", "delete"]) {
          assert.isTrue(allows(namespace, "ark.heptio.com", kind.plural, verb), `${verb} ${kind.plural}`)
        }
      }
      assert.isTrue(allows(namespace, "", "secrets", "get"))
    }))

  it.effect("both variants hold the server's leader Lease, and only that one", () =>
    Effect.gen(function*() {
      for (const objects of [yield* full, yield* restoreOnly]) {
        const { cluster, namespace } = grants(objects)
        assert.isTrue(allows(namespace, "coordination.k8s.io", "leases", "create"))
        assert.isTrue(allows(namespace, "coordination.k8s.io", "leases", "get", leaseName))
        assert.isTrue(allows(namespace, "coordination.k8s.io", "leases", "update", leaseName))
        assert.isFalse(allows(namespace, "coordination.k8s.io", "leases", "update", "kube-scheduler"))
        assert.isFalse(allows(cluster, "coordination.k8s.io", "leases", "update", leaseName))
      }
    }))

  it.effect("restore-only keeps what restores and storage sync need and nothing that only backups need", () =>
    Effect.gen(function*() {
      const { cluster, namespace } = grants(yield* restoreOnly)
      for (const [group, resource] of [["", "secrets"], ["apps", "deployments"], ["example.com", "widgets"]] as const) {
        for (const verb of ["get", "create", "patch"]) {
          assert.isTrue(allows(cluster, group, resource, verb), `${verb} ${resource}.${group}`)
        }
        for (const verb of ["list", "watch", "update", "delete"]) {
          assert.isFalse(allows(cluster, group, resource, verb), `no ${verb} on ${resource}.${group}`)
        }
      }
      assert.isTrue(allows(cluster, "rbac.authorization.k8s.io", "roles", "escalate"))
      assert.isTrue(allows(cluster, "rbac.authorization.k8s.io", "roles", "bind"))
      for (const kind of kindList) {
        for (const verb of ["get", "list", "watch"]) {
          assert.isTrue(allows(namespace, "ark.heptio.com", kind.plural, verb))
        }
      }
      // Sync imports and prunes backups; restores and locations get their status written.
      assert.isTrue(allows(namespace, "ark.heptio.com", "backups", "create"))
      assert.isTrue(allows(namespace, "ark.heptio.com", "backups", "delete"))
      assert.isTrue(allows(namespace, "ark.heptio.com", "backups/status", "patch"))
      assert.isTrue(allows(namespace, "ark.heptio.com", "restores", "patch"))
      assert.isTrue(allows(namespace, "ark.heptio.com", "restores/status", "update"))
      assert.isTrue(allows(namespace, "ark.heptio.com", "backupstoragelocations/status", "patch"))
      // Download requests are served (a URL in their status) and deleted once expired, in every mode.
      assert.isTrue(allows(namespace, "ark.heptio.com", "downloadrequests/status", "patch"))
      assert.isTrue(allows(namespace, "ark.heptio.com", "downloadrequests", "delete"))
      assert.isFalse(allows(namespace, "ark.heptio.com", "downloadrequests", "update"))
      // Deletion on request and expiry do not run in restore-only mode.
      for (
        const kind of [
          "restores",
          "deletebackuprequests",
          "schedules",
          "backupstoragelocations",
          "volumesnapshotlocations"
        ]
      ) {
        assert.isFalse(allows(namespace, "ark.heptio.com", kind, "delete"), `delete ${kind}`)
      }
      // This Role creates no schedules, restores or delete requests and changes nothing users wrote
      // (restores' cluster-wide create still covers any kind a backup holds).
      for (
        const kind of [
          "schedules",
          "deletebackuprequests",
          "restores",
          "backupstoragelocations",
          "volumesnapshotlocations"
        ]
      ) {
        assert.isFalse(allows(namespace, "ark.heptio.com", kind, "create"), `create ${kind}`)
        assert.isFalse(allows(namespace, "ark.heptio.com", kind, "update"), `update ${kind}`)
      }
      assert.isFalse(allows(namespace, "ark.heptio.com", "schedules/status", "patch"))
      assert.isFalse(allows(namespace, "ark.heptio.com", "backups", "update"))
    }))

  it.effect("restore-only differs only by the backup rights it leaves out and --restore-only", () =>
    Effect.gen(function*() {
      const everything = yield* full
      const restoring = yield* restoreOnly
      const byId = new Map(restoring.map((object) => [id(object), object]))
      const missing = everything.filter((object) => !byId.has(id(object))).map(id)
      assert.sameMembers(missing, [
        "ClusterRole /ark-backup",
        "ClusterRoleBinding /ark-backup",
        "Role heptio-ark/ark-backup",
        "RoleBinding heptio-ark/ark-backup"
      ])
      assert.strictEqual(restoring.length, everything.length - missing.length, "restore-only adds nothing")
      for (const object of everything.filter((object) => byId.has(id(object)) && object.kind !== "Deployment")) {
        assert.deepStrictEqual(byId.get(id(object)), object, `${id(object)} is the same in both`)
      }
      const deployment = find(everything, "Deployment", "ark") as any
      const restoreDeployment = find(restoring, "Deployment", "ark") as any
      const { args, ...container } = deployment.spec.template.spec.containers[0]
      const { args: restoreArgs, ...restoreContainer } = restoreDeployment.spec.template.spec.containers[0]
      assert.deepStrictEqual(restoreArgs, [...args, "--restore-only"])
      assert.deepStrictEqual(restoreContainer, container)
      const withoutContainers = (object: any) => ({
        ...object,
        spec: {
          ...object.spec,
          template: { ...object.spec.template, spec: { ...object.spec.template.spec, containers: [] } }
        }
      })
      assert.deepStrictEqual(withoutContainers(restoreDeployment), withoutContainers(deployment))
    }))
})
