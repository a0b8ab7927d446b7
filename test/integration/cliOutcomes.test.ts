// What `ark` tells a user about a backup and a restore, through the real entry point against a
// real cluster, MinIO and `ark server`: --wait shows n/N only once N is known; a restore's last
// line counts created / updated / unchanged / skipped (why) / failed; `restore describe --details`
// lists every item with its outcome; logs are text unless -o json; -o yaml drops managedFields
// unless --show-managed-fields; what Ark writes is managed by `ark`; --or-selector restores only
// what one of its selectors matches.
import { randomUUID } from "node:crypto"

import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { restoreNameLabel } from "../../src/api/index.ts"
import { arkRun } from "../support/arkProcess.ts"
import { waitFor } from "../support/wait.ts"
import { gvr } from "./backupFixtures.ts"
import { ensureNamespace } from "./crdsApply.ts"
import { liveKube } from "./live.ts"
import { arkServer, kubeconfigOf, listAll, serverNamespace, sharedMinio } from "./serverProcess.ts"

const run = randomUUID().slice(0, 8)
const namespace = `ark-outcomes-${run}`
const source = `ark-out-src-${run}`
const target = `ark-out-dst-${run}`
const picked = `ark-out-or-${run}`

const configMap = (
  ns: string,
  name: string,
  data: Record<string, string>,
  labels: Record<string, string> = {}
): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: ns, labels },
  data
})

/** A Deployment whose ReplicaSet and pod exist (kube-controller-manager and kwok make them). */
const seedDeployment = Effect.gen(function*() {
  const kube = yield* KubeClient
  yield* kube.create(gvr.deployments, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: source },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } }
    }
  })
  yield* waitFor(
    "the Deployment's pod",
    listAll(gvr.pods, source).pipe(
      Effect.map((pods) => Option.some(pods).pipe(Option.filter((all) => all.length > 0)))
    ),
    "120 seconds"
  )
})

/** The sections of `restore describe --details`: outcome → `resource namespace name [reason]` rows. */
const itemSections = (text: string): ReadonlyMap<string, ReadonlyArray<string>> => {
  const sections = new Map<string, Array<string>>()
  let current: Array<string> | undefined
  const start = text.indexOf("\nItems (")
  for (const line of text.slice(start + 1).split("\n").slice(1)) {
    const title = /^ {2}(Created|Updated|Unchanged|Skipped|Failed) \(([0-9]+)\)/.exec(line)
    if (title !== null) {
      current = []
      sections.set(title[1]!.toLowerCase(), current)
    } else if (line.startsWith("    ") && !line.startsWith("    RESOURCE") && current !== undefined) {
      current.push(line.trim().replace(/ {3,}/g, "  "))
    }
  }
  return sections
}

describe("what ark says about backups and restores", () => {
  it.live(
    "counts, outcomes per item, text logs, managedFields and the ark field manager",
    () =>
      Effect.gen(function*() {
        const kubeconfig = yield* kubeconfigOf(1)
        const s3 = yield* sharedMinio(`ark-it-outcomes-${run}`)
        const kube = yield* KubeClient
        yield* serverNamespace(namespace, s3)
        const server = yield* arkServer(kubeconfig, namespace)
        const ark = (...args: ReadonlyArray<string>) =>
          arkRun(...args, "--namespace", namespace, "--kubeconfig", kubeconfig)

        yield* ensureNamespace(source)
        for (const name of ["same", "different"]) {
          yield* kube.create(gvr.configMaps, configMap(source, name, { k: "backup" }))
        }
        yield* kube.create(gvr.configMaps, configMap(source, "new", { k: "backup" }, { tier: "cache" }))
        yield* seedDeployment

        const backedUp = yield* ark("backup", "create", "app", "--include-namespaces", source, "--wait")
        assert.strictEqual(backedUp.status, 0, backedUp.stdout + backedUp.stderr + server.output())
        const counted = backedUp.stdout.split("\n").filter((line) => line.startsWith("items backed up:"))
        for (const line of counted) {
          // While lists are read there is no total; once there is one, it is the count itself.
          const known = /^items backed up: ([0-9]+)\/([0-9]+)$/.exec(line)
          if (known === null) assert.match(line, /^items backed up: [0-9]+ \(total not known yet\)$/)
          else assert.strictEqual(known[1], known[2], line)
        }
        assert.match(backedUp.stdout, /^Backup "app" Completed \([0-9]+ items, 0 warnings, 0 errors\)$/m)

        // Already there: one equal ConfigMap (unchanged), one that differs (skipped: left as is).
        yield* ensureNamespace(target)
        yield* kube.create(gvr.configMaps, configMap(target, "same", { k: "backup" }))
        yield* kube.create(gvr.configMaps, configMap(target, "different", { k: "live" }))

        const restored = yield* ark(
          "restore",
          "create",
          "again",
          "--from-backup",
          "app",
          "--namespace-mappings",
          `${source}:${target}`,
          "--wait"
        )
        assert.strictEqual(restored.status, 0, restored.stdout + restored.stderr + server.output())
        const last = restored.stdout.trim().split("\n").at(-1) ?? ""
        const counts =
          /^Restore "again" Completed \(([0-9]+) created, ([0-9]+) updated, ([0-9]+) unchanged, ([0-9]+) skipped \((.+)\), ([0-9]+) failed; [0-9]+ warnings, 0 errors\)$/
            .exec(last)
        assert.isNotNull(counts, last)
        const [created, updated, unchanged, skipped, why, failed] = counts!.slice(1)
        assert.strictEqual(updated, "0")
        assert.strictEqual(failed, "0")
        assert.include(why, "1 exists and differs from the backup, left as is (existing-resource-policy none)")
        assert.match(why ?? "", /[0-9]+ owned by a restored Deployment/)
        assert.match(why ?? "", /[0-9]+ owned by a ReplicaSet its own owner recreates/)

        const described = yield* ark("restore", "describe", "again", "--details")
        assert.strictEqual(described.status, 0, described.stderr)
        const sections = itemSections(described.stdout)
        assert.strictEqual(sections.get("created")?.length, Number(created), described.stdout)
        assert.strictEqual(sections.get("unchanged")?.length, Number(unchanged), described.stdout)
        assert.strictEqual(sections.get("skipped")?.length, Number(skipped), described.stdout)
        assert.isUndefined(sections.get("updated"))
        assert.isUndefined(sections.get("failed"))
        assert.include(sections.get("created") ?? [], `configmaps  ${target}  new`)
        assert.include(sections.get("created") ?? [], `deployments.apps  ${target}  web`)
        assert.include(sections.get("unchanged") ?? [], `configmaps  ${target}  same`)
        const skippedRows = sections.get("skipped") ?? []
        assert.isTrue(
          skippedRows.some((row) =>
            row.startsWith(`configmaps  ${target}  different  exists and differs from the backup`) &&
            row.includes(`data.k: "live" → "backup"`)
          ),
          skippedRows.join("\n")
        )
        assert.isTrue(
          skippedRows.some((row) =>
            /^replicasets\.apps {2}\S+ {2}web-\S+ {2}owned by a restored Deployment: web$/.test(row)
          ),
          skippedRows.join("\n")
        )
        assert.isTrue(
          skippedRows.some((row) =>
            /^pods {2}\S+ {2}web-\S+ {2}owned by a ReplicaSet its own owner recreates: web-/.test(row)
          ),
          skippedRows.join("\n")
        )

        const textLog = yield* ark("restore", "logs", "again")
        assert.strictEqual(textLog.status, 0, textLog.stderr)
        const textLines = textLog.stdout.trim().split("\n")
        for (const line of textLines) assert.match(line, /^[0-9]{4}-[0-9]{2}-[0-9]{2}T\S+Z (info|warning|error) +\S/)
        assert.isTrue(
          textLines.some((line) => line.endsWith(`restored  resource=configmaps namespace=${target} name=new`)),
          textLog.stdout
        )
        const jsonLog = yield* ark("restore", "logs", "again", "-o", "json")
        const jsonLines = jsonLog.stdout.trim().split("\n").map((line) => JSON.parse(line))
        assert.strictEqual(jsonLines.length, textLines.length)
        assert.isTrue(jsonLines.every((line) => line.restore === "again"))
        const backupLog = yield* ark("backup", "logs", "app")
        assert.match(backupLog.stdout, /^\S+Z info +backup app started$/m)

        // Velero's --or-selector: objects matching either selector; of the ConfigMaps, only "new".
        const selected = yield* ark(
          "restore",
          "create",
          "picked",
          "--from-backup",
          "app",
          "--or-selector",
          "tier=cache or app=nothing",
          "--namespace-mappings",
          `${source}:${picked}`,
          "--wait"
        )
        assert.strictEqual(selected.status, 0, selected.stdout + selected.stderr + server.output())
        const pickedConfigMaps = yield* listAll(gvr.configMaps, picked)
        assert.deepStrictEqual(
          pickedConfigMaps.filter((object) => object.metadata.labels?.[restoreNameLabel] === "picked")
            .map((object) => object.metadata.name),
          ["new"]
        )

        const yaml = yield* ark("backup", "get", "app", "-o", "yaml")
        assert.strictEqual(yaml.status, 0, yaml.stderr)
        assert.include(yaml.stdout, "name: app")
        assert.notInclude(yaml.stdout, "managedFields")
        const withManaged = yield* ark("backup", "get", "app", "-o", "yaml", "--show-managed-fields")
        assert.include(withManaged.stdout, "managedFields")
        assert.include(withManaged.stdout, "manager: ark")
        assert.notInclude(withManaged.stdout, "manager: unknown")

        // The server created it: the API server records Ark as its manager.
        const written = yield* kube.get(gvr.configMaps, "new", target)
        const managers =
          ((written.metadata as { managedFields?: ReadonlyArray<{ manager?: string }> }).managedFields ?? [])
            .map((entry) => entry.manager)
        assert.deepStrictEqual(managers, ["ark"])
      }).pipe(
        Effect.ensuring(
          KubeClient.pipe(Effect.flatMap((kube) =>
            Effect.forEach([source, target, picked], (ns) => kube.delete(gvr.namespaces, ns).pipe(Effect.ignore), {
              discard: true
            })
          ))
        ),
        Effect.scoped,
        Effect.provide(liveKube())
      ),
    600_000
  )
})
