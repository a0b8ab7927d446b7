// Completion of the names of existing resources: Ark's resources are created directly through the
// API, then bash, zsh and fish complete NAME arguments and flags through the real `ark` entry point,
// which reads them from the test environment's API server.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

import { KubeClient } from "../../services/KubeClient.ts"
import { group, version } from "../../src/api/index.ts"
import { bashCompletions, fishCompletions, zshCompletedLine } from "../support/shellCompletion.ts"
import { applyCrds, ensureNamespace, namespaceGvr } from "./crdsApply.ts"
import { liveKube } from "./live.ts"

const apiVersion = `${group}/${version}`
const gvr = (resource: string) => ({ group, version, resource })

const resources = (namespace: string) =>
  [
    { resource: "backups", kind: "Backup", name: "nightly", spec: {} },
    { resource: "backups", kind: "Backup", name: "weekly", spec: {} },
    { resource: "restores", kind: "Restore", name: "nightly-copy", spec: { backupName: "nightly" } },
    { resource: "schedules", kind: "Schedule", name: "daily", spec: { schedule: "0 3 * * *", template: {} } },
    {
      resource: "backupstoragelocations",
      kind: "BackupStorageLocation",
      name: "primary",
      spec: { provider: "aws", objectStorage: { bucket: "ark" } }
    },
    { resource: "volumesnapshotlocations", kind: "VolumeSnapshotLocation", name: "ebs", spec: { provider: "aws" } }
  ].map(({ kind, name, resource, spec }) => ({
    gvr: gvr(resource),
    object: { apiVersion, kind, metadata: { name, namespace }, spec }
  }))

/** A dozen completions, each starting `ark`: tens of seconds apiece on a loaded 2-core machine. */
const completionsTimeout = 900_000

describe("completion of resource names from a real API server", () => {
  it.live("bash, zsh and fish offer the backups, restores, schedules and locations that exist", () => {
    const namespace = `ark-complete-${process.pid}`
    const kubeconfig = process.env["KUBECONFIG"] ?? ""
    const on = `-n ${namespace} --kubeconfig ${kubeconfig}`
    return Effect.gen(function*() {
      yield* applyCrds
      yield* ensureNamespace(namespace)
      const kube = yield* KubeClient
      for (const { gvr, object } of resources(namespace)) yield* kube.create(gvr, object)

      const bash = (line: string) => Effect.promise(() => bashCompletions(line))
      assert.deepStrictEqual(yield* bash(`ark backup describe ${on} `), ["nightly", "weekly"])
      assert.deepStrictEqual(yield* bash(`ark backup logs --namespace=${namespace} --kubeconfig=${kubeconfig} w`), [
        "weekly"
      ])
      assert.deepStrictEqual(yield* bash(`ark restore describe ${on} `), ["nightly-copy"])
      assert.deepStrictEqual(yield* bash(`ark schedule describe ${on} `), ["daily"])
      assert.deepStrictEqual(yield* bash(`ark backup-location get ${on} `), ["primary"])
      assert.deepStrictEqual(yield* bash(`ark snapshot-location get ${on} `), ["ebs"])
      assert.deepStrictEqual(yield* bash(`ark restore create ${on} --from-backup n`), ["nightly"])
      assert.deepStrictEqual(yield* bash(`ark backup create x ${on} --storage-location=`), ["primary"])
      // --kubeconfig from $KUBECONFIG, as every command reads it; another namespace has none of them.
      assert.deepStrictEqual(yield* bash(`ark backup describe -n ${namespace} `), ["nightly", "weekly"])
      assert.deepStrictEqual(yield* bash(`ark backup describe -n ${namespace}-other `), [])

      assert.strictEqual(
        yield* Effect.promise(() => zshCompletedLine(`ark schedule pause ${on} `)),
        `ark schedule pause ${on} daily _END_`
      )
      assert.sameMembers(
        [...yield* Effect.promise(() => fishCompletions(`ark backup delete ${on} `))],
        ["nightly", "weekly"]
      )
    }).pipe(
      Effect.ensuring(KubeClient.pipe(Effect.flatMap((kube) => kube.delete(namespaceGvr, namespace)), Effect.ignore)),
      Effect.provide(liveKube())
    )
  }, completionsTimeout)
})
