import { Duration } from "effect"

import type { KubeError } from "../../../services/KubeClient.ts"
import {
  KubeAlreadyExists,
  KubeConflict,
  KubeForbidden,
  KubeGone,
  KubeInvalid,
  KubeNotFound,
  KubeUnavailable
} from "../../../services/KubeClient.ts"

/** What a request was about, for error messages. */
export interface RequestContext {
  readonly resource: string
  readonly name?: string | undefined
}

const field = (value: unknown, name: string): unknown =>
  typeof value === "object" && value !== null && name in value ? (value as Record<string, unknown>)[name] : undefined

const stringField = (value: unknown, name: string): string | undefined => {
  const v = field(value, name)
  return typeof v === "string" && v !== "" ? v : undefined
}

/** Retry-After in seconds, from the header or the Status body's details. */
export const retryAfterOf = (header: string | undefined, status: unknown): Duration.Duration | undefined => {
  const seconds = header !== undefined && /^\d+$/.test(header.trim())
    ? Number(header.trim())
    : field(field(status, "details"), "retryAfterSeconds")
  return typeof seconds === "number" && seconds > 0 ? Duration.seconds(seconds) : undefined
}

/**
 * The typed error for a non-2xx response or an ERROR watch event, from its HTTP code and the
 * API server's Status object (`reason` tells AlreadyExists from Conflict on a 409).
 */
export const statusError = (
  code: number,
  status: unknown,
  context: RequestContext,
  retryAfterHeader?: string
): KubeError => {
  const reason = stringField(status, "reason")
  const message = stringField(status, "message") ?? `HTTP ${code}${reason === undefined ? "" : ` ${reason}`}`
  const fields = {
    resource: context.resource,
    ...(context.name === undefined ? {} : { name: context.name }),
    message
  }
  if (code === 404) return new KubeNotFound(fields)
  if (code === 409) return reason === "AlreadyExists" ? new KubeAlreadyExists(fields) : new KubeConflict(fields)
  if (code === 410 || reason === "Expired" || reason === "Gone") return new KubeGone(fields)
  if (code === 401 || code === 403) return new KubeForbidden(fields)
  if (code === 429 || code >= 500 || code === 0) {
    const retryAfter = retryAfterOf(retryAfterHeader, status)
    return new KubeUnavailable({ ...fields, status: code, ...(retryAfter === undefined ? {} : { retryAfter }) })
  }
  // 400, 422 and the rest of 4xx (405, 406, 415): the request itself is wrong.
  return new KubeInvalid(fields)
}

/** A connection that broke, timed out or was refused. */
export const transportError = (context: RequestContext, what: string, cause: unknown): KubeUnavailable =>
  new KubeUnavailable({
    resource: context.resource,
    ...(context.name === undefined ? {} : { name: context.name }),
    message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}`,
    cause
  })
