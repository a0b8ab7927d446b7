// Everything wrong with a Backup before it runs, in one list for status.validationErrors: the
// spec (decode problems, unknown resources, selectors, TTL) and its storage location (missing,
// invalid, ReadOnly, cannot be opened).
import { Data, Effect, Either, Option, ParseResult, Schema } from "effect"

import type { KubeObject } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import { ObjectStoreProvider } from "../../../services/ObjectStoreProvider.ts"
import type { Backup, BackupStorageLocation } from "../../api/index.ts"
import { Backup as BackupSchema, formatDecodeError } from "../../api/index.ts"
import { validateBackupSpec } from "../../backup/validate.ts"
import { readRecipients } from "../../integrity/encryption.ts"
import { readLocationKeys } from "../../integrity/signature.ts"
import { decodeLocation, listLocations } from "../../locations/resolve.ts"

/** The Backup cannot run as written: every problem, for status.validationErrors. */
export class ValidationFailed
  extends Data.TaggedError("BackupValidationFailed")<{ readonly problems: ReadonlyArray<string> }>
{}

const decodeEither = Schema.decodeUnknownEither(BackupSchema)

/**
 * The Backup and its decode problems. A spec field that does not decode is reported and then
 * dropped (its default applies), so the rest of the spec is still validated: FailedValidation
 * lists every problem, not just the first field's.
 */
export const decodeBackup = (
  object: KubeObject
): { readonly backup: Option.Option<Backup>; readonly problems: ReadonlyArray<string> } => {
  const first = decodeEither(object)
  if (Either.isRight(first)) return { backup: Option.some(first.right), problems: [] }
  const problems = formatDecodeError(first.left)
  const fields = ParseResult.ArrayFormatter.formatErrorSync(first.left).map((issue) => issue.path)
  const spec = object["spec"]
  if (!fields.every((path) => path[0] === "spec" && path.length >= 2) || typeof spec !== "object" || spec === null) {
    return { backup: Option.none(), problems }
  }
  const lenientSpec: Record<string, unknown> = { ...(spec as Record<string, unknown>) }
  for (const path of fields) delete lenientSpec[String(path[1])]
  const second = decodeEither({ ...object, spec: lenientSpec })
  return { backup: Either.isRight(second) ? Option.some(second.right) : Option.none(), problems }
}

/** The location's problems, and the location itself when it is usable. A missing one is the spec's problem. */
export const locationProblems = (
  wanted: string,
  objects: ReadonlyArray<KubeObject>
): { readonly problems: ReadonlyArray<string>; readonly location: Option.Option<BackupStorageLocation> } => {
  const found = objects.find((object) => object.metadata.name === wanted)
  if (found === undefined) return { problems: [], location: Option.none() }
  const decoded = decodeLocation(found)
  if (Either.isLeft(decoded)) return { problems: [`storageLocation: ${decoded.left.message}`], location: Option.none() }
  if (decoded.right.spec.accessMode === "ReadOnly") {
    return {
      problems: [`storageLocation: backup storage location "${wanted}" is ReadOnly; backups cannot be written to it`],
      location: Option.none()
    }
  }
  return { problems: [], location: Option.some(decoded.right) }
}

/** Every problem with the Backup at once, or the decoded Backup and the store it writes to. */
export const validateBackup = Effect.fn("BackupController.validate")(function*(object: KubeObject, namespace: string) {
  const kube = yield* KubeClient
  const provider = yield* ObjectStoreProvider
  const decoded = decodeBackup(object)
  if (Option.isNone(decoded.backup)) return yield* new ValidationFailed({ problems: decoded.problems })
  const backup: Backup = decoded.backup.value
  const discovery = yield* kube.discover
  const objects = yield* listLocations(namespace)
  const location = locationProblems(backup.spec.storageLocation, objects)
  const storageLocations = objects.flatMap((o) => o.metadata.name ?? [])
  const problems = [
    ...decoded.problems,
    ...validateBackupSpec(backup.spec, { resources: discovery.resources, storageLocations }),
    ...location.problems
  ]
  if (problems.length > 0 || Option.isNone(location.location)) return yield* new ValidationFailed({ problems })
  const store = yield* provider.forLocation(location.location.value).pipe(
    Effect.mapError((error) =>
      new ValidationFailed({
        problems: [
          `storageLocation: backup storage location "${backup.spec.storageLocation}" cannot be opened: ${error.message}`
        ]
      })
    )
  )
  const keys = yield* readLocationKeys(kube, location.location.value).pipe(
    Effect.mapError((error) =>
      new ValidationFailed({
        problems: [`storageLocation: backup storage location "${backup.spec.storageLocation}": ${error.message}`]
      })
    )
  )
  const recipients = yield* readRecipients(kube, location.location.value).pipe(
    Effect.mapError((error) =>
      new ValidationFailed({
        problems: [`storageLocation: backup storage location "${backup.spec.storageLocation}": ${error.message}`]
      })
    )
  )
  return { backup, store, storageLocations, signingKey: keys.signing, recipients }
})
