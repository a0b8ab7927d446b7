// `get` and `delete` of several names, of `-l SELECTOR` and of `--all`, for backups, restores and
// schedules, through the real `ark` against a real API server. No Ark server runs: a backup's
// delete leaves a DeleteBackupRequest for it, a restore's or a schedule's removes the resource.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"

import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { deleteBackupRequestsGvr } from "../../src/deletion/requests.ts"
import { arkRun } from "../support/arkProcess.ts"
import { applyCrds, ensureNamespace, namespaceGvr } from "./crdsApply.ts"
import { liveKube } from "./live.ts"

const arkGvr = (resource: string): GroupVersionResource => ({ group: "ark.heptio.com", version: "v1", resource })
const backupsGvr = arkGvr("backups")
const restoresGvr = arkGvr("restores")
const schedulesGvr = arkGvr("schedules")
const locationsGvr = arkGvr("backupstoragelocations")

const listNames = (gvr: GroupVersionResource, namespace: string, read: (object: KubeObject) => string) =>
  KubeClient.pipe(
    Effect.flatMap((kube) => Stream.runCollect(kube.listPages(gvr, { namespace }))),
    Effect.map((pages) => [...pages].flatMap((page) => page.items.map((object) => read(object))).sort())
  )

interface Kind {
  readonly what: "backup" | "restore" | "schedule"
  readonly gvr: GroupVersionResource
  readonly spec: Record<string, unknown>
  /** After each delete: what the deletes so far left behind, sorted. */
  readonly state: (namespace: string) => Effect.Effect<ReadonlyArray<string>, unknown, KubeClient>
  /** `state` after `delete n1 n3`, then `delete -l team=shop`, then `delete --all`. */
  readonly expected: readonly [ReadonlyArray<string>, ReadonlyArray<string>, ReadonlyArray<string>]
}

const kinds: ReadonlyArray<Kind> = [
  {
    what: "backup",
    gvr: backupsGvr,
    spec: {},
    // The server would act on these requests; the backups themselves stay, so each delete selects them again.
    state: (namespace) =>
      listNames(
        deleteBackupRequestsGvr,
        namespace,
        (object) => (object["spec"] as { readonly backupName?: string } | undefined)?.backupName ?? ""
      ),
    expected: [
      ["n1", "n3"],
      ["n1", "n1", "n2", "n3"],
      ["n1", "n1", "n1", "n2", "n2", "n3", "n3", "n4"]
    ]
  },
  {
    what: "restore",
    gvr: restoresGvr,
    // A backup that is gone: the restore's resource alone is deleted.
    spec: { backupName: "gone" },
    state: (namespace) => listNames(restoresGvr, namespace, (object) => object.metadata.name ?? ""),
    expected: [["n2", "n4"], ["n4"], []]
  },
  {
    what: "schedule",
    gvr: schedulesGvr,
    spec: { schedule: "@daily", template: {} },
    state: (namespace) => listNames(schedulesGvr, namespace, (object) => object.metadata.name ?? ""),
    expected: [["n2", "n4"], ["n4"], []]
  }
]

const labelsOf: Record<string, Record<string, string>> = {
  n1: { team: "shop" },
  n2: { team: "shop" },
  n3: { team: "blog" },
  n4: {}
}

/** The NAME column of a `get` table. */
const namesIn = (table: string) => table.trimEnd().split("\n").slice(1).map((row) => row.split(/\s+/)[0] ?? "")

describe("ark get and delete of a selection on a real API server", () => {
  for (const kind of kinds) {
    it.live(
      `${kind.what}: get A B and -l; delete A B, -l and --all`,
      () => {
        const namespace = `ark-cli-sel-${process.pid}-${kind.what}`
        const arkIn = (...args: ReadonlyArray<string>) =>
          arkRun(...args, "--namespace", namespace, "--kubeconfig", process.env["KUBECONFIG"] ?? "")
        return Effect.gen(function*() {
          const kube = yield* KubeClient
          yield* applyCrds
          yield* ensureNamespace(namespace)
          yield* kube.create(locationsGvr, {
            apiVersion: "ark.heptio.com/v1",
            kind: "BackupStorageLocation",
            metadata: { name: "default", namespace },
            spec: { provider: "aws", objectStorage: { bucket: "ark" } }
          })
          const kindName = kind.what.charAt(0).toUpperCase() + kind.what.slice(1)
          for (const [name, labels] of Object.entries(labelsOf)) {
            yield* kube.create(kind.gvr, {
              apiVersion: "ark.heptio.com/v1",
              kind: kindName,
              metadata: { name, namespace, labels },
              spec: kind.spec
            })
          }

          const named = yield* arkIn(kind.what, "get", "n1", "n3")
          assert.strictEqual(named.status, 0, named.stderr)
          assert.deepStrictEqual(namesIn(named.stdout), ["n1", "n3"])
          const selected = yield* arkIn(kind.what, "get", "-l", "team=shop")
          assert.strictEqual(selected.status, 0, selected.stderr)
          assert.deepStrictEqual(namesIn(selected.stdout), ["n1", "n2"])

          const byName = yield* arkIn(kind.what, "delete", "n1", "n3", "--confirm")
          assert.strictEqual(byName.status, 0, byName.stderr)
          assert.deepStrictEqual(yield* kind.state(namespace), kind.expected[0])
          const bySelector = yield* arkIn(kind.what, "delete", "-l", "team=shop", "--confirm")
          assert.strictEqual(bySelector.status, 0, bySelector.stderr)
          assert.deepStrictEqual(yield* kind.state(namespace), kind.expected[1])
          const all = yield* arkIn(kind.what, "delete", "--all", "--confirm")
          assert.strictEqual(all.status, 0, all.stderr)
          assert.deepStrictEqual(yield* kind.state(namespace), kind.expected[2])
        }).pipe(
          Effect.ensuring(
            KubeClient.pipe(Effect.flatMap((kube) => kube.delete(namespaceGvr, namespace)), Effect.ignore)
          ),
          Effect.provide(liveKube())
        )
      },
      // Five `ark` processes in a row, each seconds (far more on a loaded machine).
      300_000
    )
  }
})
