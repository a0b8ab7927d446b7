// `ark schedule create --labels/--annotations` through the real `ark` against a real API server:
// they go on the Schedule, and a backup made from it (`backup create --from-schedule`) inherits
// them, as Velero's scheduled backups do. No Ark server runs; the controller's own backups are
// covered by test/server/scheduleController.test.ts and test/cli/scheduleHandlers.test.ts.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"

import type { GroupVersionResource } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { arkRun } from "../support/arkProcess.ts"
import { applyCrds, ensureNamespace, namespaceGvr } from "./crdsApply.ts"
import { liveKube } from "./live.ts"

const arkGvr = (resource: string): GroupVersionResource => ({ group: "ark.heptio.com", version: "v1", resource })

describe("ark schedule create on a real API server", () => {
  it.live("--labels and --annotations go on the Schedule and on the backups made from it", () => {
    const namespace = `ark-cli-sched-${process.pid}`
    const ark = (...args: ReadonlyArray<string>) =>
      arkRun(...args, "--namespace", namespace, "--kubeconfig", process.env["KUBECONFIG"] ?? "")
    return Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* applyCrds
      yield* ensureNamespace(namespace)
      yield* kube.create(arkGvr("backupstoragelocations"), {
        apiVersion: "ark.heptio.com/v1",
        kind: "BackupStorageLocation",
        metadata: { name: "default", namespace },
        spec: { provider: "aws", objectStorage: { bucket: "ark" } }
      })

      const refused = yield* ark("schedule", "create", "shop", "--schedule", "@daily", "--labels", "team")
      assert.notStrictEqual(refused.status, 0)
      assert.strictEqual(
        refused.stderr,
        "error: --labels: \"team\" is not key=value\nhint: for example: --labels team=shop,tier=web\n"
      )
      assert.isTrue(Option.isNone(yield* kube.get(arkGvr("schedules"), "shop", namespace).pipe(Effect.option)))

      const created = yield* ark(
        "schedule",
        "create",
        "shop",
        "--schedule",
        "@daily",
        "--labels",
        "team=shop,tier=web",
        "--annotations",
        "owner=alice"
      )
      assert.strictEqual(created.status, 0, created.stderr)
      const schedule = yield* kube.get(arkGvr("schedules"), "shop", namespace)
      assert.deepStrictEqual(schedule.metadata.labels, { team: "shop", tier: "web" })
      assert.deepStrictEqual(schedule.metadata.annotations, { owner: "alice" })

      const manual = yield* ark("backup", "create", "shop-manual", "--from-schedule", "shop")
      assert.strictEqual(manual.status, 0, manual.stderr)
      const backup = yield* kube.get(arkGvr("backups"), "shop-manual", namespace)
      assert.deepStrictEqual(backup.metadata.labels, {
        team: "shop",
        tier: "web",
        "ark.heptio.com/schedule-name": "shop",
        "ark-schedule": "shop"
      })
      assert.deepStrictEqual(backup.metadata.annotations, { owner: "alice" })
    }).pipe(
      Effect.ensuring(KubeClient.pipe(Effect.flatMap((kube) => kube.delete(namespaceGvr, namespace)), Effect.ignore)),
      Effect.provide(liveKube())
    )
  }, 300_000)
})
