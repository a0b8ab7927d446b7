// DeleteBackupRequests: the one path by which a backup is deleted. `ark backup delete` and TTL
// garbage collection create them; the backup-deletion controller processes them.
import { Effect, Stream } from "effect"

import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { apiVersion, backupNameLabel, group, kinds, nameMarkers, version, withMarkers } from "../api/index.ts"

export const deleteBackupRequestsGvr: GroupVersionResource = {
  group,
  version,
  resource: kinds.DeleteBackupRequest.plural
}

/** The longest generateName prefix the API server keeps whole (it adds five characters). */
const GENERATE_NAME_MAX = 58

/** A new request to delete `backupName`, named `<backup>-<5 random characters>` by the API server. */
export const newDeleteBackupRequest = (backupName: string, namespace: string): KubeObject => ({
  apiVersion,
  kind: kinds.DeleteBackupRequest.kind,
  metadata: withMarkers(
    { generateName: `${backupName.slice(0, GENERATE_NAME_MAX - 1).replace(/[^a-z0-9]+$/, "")}-`, namespace },
    nameMarkers({ [backupNameLabel]: backupName })
  ),
  spec: { backupName }
})

/** `spec.backupName` of a stored request, read without decoding: a malformed request still names its backup. */
export const requestedBackup = (request: KubeObject): string => {
  const spec = request["spec"]
  if (typeof spec !== "object" || spec === null) return ""
  const name = (spec as Record<string, unknown>)["backupName"]
  return typeof name === "string" ? name : ""
}

/** `status.phase` of any stored resource, read without decoding. */
export const phaseOf = (object: KubeObject): string | undefined => {
  const status = object["status"]
  if (typeof status !== "object" || status === null) return undefined
  const phase = (status as Record<string, unknown>)["phase"]
  return typeof phase === "string" && phase !== "" ? phase : undefined
}

export const isProcessed = (request: KubeObject): boolean => phaseOf(request) === "Processed"

/** Every request in the namespace, as stored. */
export const listDeleteBackupRequests = (namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const pages = yield* Stream.runCollect(kube.listPages(deleteBackupRequestsGvr, { namespace, limit: 500 }))
    return [...pages].flatMap((page) => page.items)
  })

/** The requests that name `backupName`, found by spec (a label may be missing on a hand-made one). */
export const requestsFor = (backupName: string, namespace: string) =>
  listDeleteBackupRequests(namespace).pipe(
    Effect.map((requests) => requests.filter((request) => requestedBackup(request) === backupName))
  )
