// DownloadRequests as stored: their phase and expiration read without decoding, so a malformed
// request still expires.
import { DateTime, Option } from "effect"

import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { group, kinds, version } from "../api/index.ts"
import { phaseOf } from "../deletion/requests.ts"

export const downloadRequestsGvr: GroupVersionResource = { group, version, resource: kinds.DownloadRequest.plural }

export const isProcessed = (request: KubeObject): boolean => phaseOf(request) === "Processed"

/** `status.expiration`, when it is a time. */
export const expirationOf = (request: KubeObject): Option.Option<DateTime.Utc> => {
  const status = request["status"]
  if (typeof status !== "object" || status === null) return Option.none()
  const expiration = (status as Record<string, unknown>)["expiration"]
  return typeof expiration === "string"
    ? Option.map(DateTime.make(expiration), (time) => DateTime.toUtc(time))
    : Option.none()
}

/** A Processed request whose expiration is before `now`: its URL no longer works. */
export const isExpired = (request: KubeObject, now: DateTime.Utc): boolean =>
  isProcessed(request) &&
  Option.match(expirationOf(request), {
    onNone: () => false,
    onSome: (expiration) => DateTime.lessThan(expiration, now)
  })
