// Restores from the CLI: reading them, and the backup (and storage) a restore belongs to.
import { Effect, Either, Option, Schema, Stream } from "effect"

import type { GroupVersionResource, KubeObject } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import type { Backup } from "../../api/index.ts"
import { formatDecodeError, group, Restore, version } from "../../api/index.ts"
import { findBackup, isRestorable } from "../../server/controllers/restoreSource.ts"
import { kubeFailure } from "../backup/kube.ts"
import { CliError } from "../errors.ts"
import { arkCommand } from "../namespace.ts"

export const restoresGvr: GroupVersionResource = { group, version, resource: "restores" }

const decodeRestore = (object: KubeObject) =>
  Schema.decodeUnknown(Restore)(object).pipe(
    Effect.mapError((error) =>
      new CliError({
        message: `restore "${object.metadata.name ?? ""}" is malformed: ${formatDecodeError(error).join("; ")}`,
        hint: "fix or recreate it with kubectl; it does not match Ark's CRD"
      })
    )
  )

/** One restore by name; a missing one is `error: restore "x" not found in namespace heptio-ark`. */
export const getRestore = (name: string, namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const raw = yield* kube.get(restoresGvr, name, namespace).pipe(
      Effect.mapError((error) =>
        error._tag === "KubeNotFound" && error.name === name &&
          !error.message.includes("could not find the requested resource")
          ? new CliError({
            message: `restore "${name}" not found in namespace ${namespace}`,
            hint: `${arkCommand(namespace, "restore get")} lists them`
          })
          : kubeFailure(`cannot read restore "${name}"`, namespace)(error)
      )
    )
    return { raw, decoded: yield* decodeRestore(raw) }
  })

/** Every restore in the namespace, raw and decoded, sorted by name. */
export const listRestores = (namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const pages = yield* kube.listPages(restoresGvr, { namespace, limit: 500 }).pipe(
      Stream.runCollect,
      Effect.mapError((error) => kubeFailure("cannot list restores", namespace)(error))
    )
    const objects = [...pages].flatMap((page) => page.items)
      .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""))
    return yield* Effect.forEach(objects, (raw) => decodeRestore(raw).pipe(Effect.map((decoded) => ({ raw, decoded }))))
  })

/** The backup `name` as the server finds it for a restore: in the cluster, else in a storage location. */
export const requireBackup = (name: string, namespace: string) =>
  findBackup(name, namespace).pipe(
    Effect.mapError((error) =>
      error._tag === "BackupUnreadable"
        ? new CliError({ message: error.message, hint: "fix or recreate it with kubectl; it does not match Ark's CRD" })
        : kubeFailure(`cannot look up backup "${name}"`, namespace)(error)
    ),
    Effect.flatMap(Option.match({
      onNone: () =>
        Effect.fail(
          new CliError({
            message: `backup "${name}" not found in namespace ${namespace} nor in any backup storage location`,
            hint: `${arkCommand(namespace, "backup get")} lists the backups`
          })
        ),
      onSome: (found) => Effect.succeed(found)
    }))
  )

/** The backup `name` and the store of its files: from the cluster, else from a storage location. */
export const backupWithStore = (name: string, namespace: string) =>
  requireBackup(name, namespace).pipe(
    Effect.flatMap((found) =>
      Either.match(found.store, {
        onLeft: (problem) =>
          Effect.fail(
            new CliError({
              message: problem,
              hint: `${arkCommand(namespace, "backup-location get")} shows the locations`
            })
          ),
        onRight: (store) => Effect.succeed({ backup: found.backup, store })
      })
    )
  )

/** A restore can only read a Completed or PartiallyFailed backup. */
export const requireRestorable = (backup: Backup): Effect.Effect<Backup, CliError> =>
  isRestorable(backup)
    ? Effect.succeed(backup)
    : Effect.fail(
      new CliError({
        message: `backup "${backup.metadata.name ?? ""}" is ${
          backup.status?.phase ?? "New"
        }; only Completed or PartiallyFailed backups can be restored`,
        hint: `${
          arkCommand(backup.metadata.namespace ?? "", `backup describe ${backup.metadata.name ?? ""}`)
        } shows why`
      })
    )
