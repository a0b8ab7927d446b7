// One in-process backup of a namespace to the "default" store in context, pages of 500 as the
// server reads them (with `options` on top); dies unless it Completed. Returns the items backed up.
import { Effect, Schema } from "effect"

import { Backup } from "../src/api/index.ts"
import type { BackupDeps } from "../src/backup/run.ts"
import { runBackup } from "../src/backup/run.ts"
import { pageSize } from "./seed.ts"

export const backupOnce = (namespace: string, name: string, options: Partial<BackupDeps> = {}) =>
  Effect.gen(function*() {
    const backup = Schema.decodeUnknownSync(Backup)({
      apiVersion: "ark.heptio.com/v1",
      kind: "Backup",
      metadata: { name, namespace: "heptio-ark" },
      spec: { includedNamespaces: [namespace], snapshotVolumes: false }
    })
    const result = yield* runBackup(backup, { storageLocations: ["default"], pageSize, ...options })
    if (result.status?.phase !== "Completed") {
      return yield* Effect.dieMessage(
        `backup ${name} ended ${result.status?.phase}: ${result.status?.failureReason ?? ""}`
      )
    }
    return result.status.progress?.itemsBackedUp ?? 0
  })
