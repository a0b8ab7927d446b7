// `ark restore create`: submit a Restore resource, and with --wait follow it to its end; with
// --dry-run, show what the restore would do and submit nothing.
import { Console, DateTime, Effect, Either, Option, Schema } from "effect"

import type { KubeObject } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import { ObjectStore } from "../../../services/ObjectStore.ts"
import { Restore } from "../../api/index.ts"
import { loadResourceModifiers } from "../../restore/modifiers/load.ts"
import { dryRunRestore } from "../../restore/run.ts"
import { latestScheduledBackup } from "../../server/controllers/restoreSource.ts"
import { kubeFailure } from "../backup/kube.ts"
import { CliError } from "../errors.ts"
import { arkCommand } from "../namespace.ts"
import { followUntilFinished } from "../wait.ts"
import { backupWithStore, requireBackup, requireRestorable, restoresGvr } from "./kube.ts"
import type { RestoreFlags, RestoreSource } from "./spec.ts"
import { restoreName, restoreResource, restoreSource, restoreSpecFromFlags } from "./spec.ts"
import { dryRunView, isFinished, outcomeLine, progressLine } from "./view.ts"

export interface CreateArgs extends RestoreFlags {
  readonly name: Option.Option<string>
  readonly namespace: string
  readonly dryRun: boolean
  readonly wait: boolean
}

/** The Restore the flags describe; the default name comes from the clock (UTC). */
export const desiredRestore = Effect.fn("Cli.restoreDesired")(function*(args: CreateArgs) {
  const source = yield* restoreSource(args)
  const spec = yield* restoreSpecFromFlags(args)
  const name = yield* restoreName(args.name, source, yield* DateTime.now)
  return { source, restore: restoreResource(name, args.namespace, spec) }
})

export const createRestore = Effect.fn("Cli.restoreCreate")(function*(args: CreateArgs) {
  const kube = yield* KubeClient
  const { restore, source } = yield* desiredRestore(args)
  const name = restore.metadata.name ?? ""
  yield* requireResourceModifiers(restore, args.namespace)
  if (args.dryRun) return yield* dryRun(restore, source, args.namespace)
  // The server would only fail the Restore later: a source with nothing to restore is refused now.
  const nothingCreated = (error: CliError) =>
    new CliError({
      message: `${error.message}; nothing was created`,
      ...(error.hint === undefined ? {} : { hint: error.hint })
    })
  if (source._tag === "Backup") {
    yield* requireBackup(source.name, args.namespace).pipe(Effect.mapError((error) => nothingCreated(error)))
  } else {
    yield* latestOfSchedule(source.name, args.namespace).pipe(Effect.mapError((error) => nothingCreated(error)))
  }
  const encoded = yield* Schema.encode(Restore)(restore).pipe(
    Effect.mapError((error) => new CliError({ message: `cannot encode restore "${name}": ${error.message}` }))
  )
  const created = yield* kube.create(restoresGvr, encoded).pipe(
    Effect.mapError((error) =>
      error._tag === "KubeAlreadyExists"
        ? new CliError({
          message: `restore "${name}" already exists in namespace ${args.namespace}`,
          hint: `choose another name, or \`${arkCommand(args.namespace, `restore delete ${name}`)}\` first`
        })
        : kubeFailure(`cannot create restore "${name}"`, args.namespace)(error)
    )
  )
  if (!args.wait) {
    yield* Console.log(
      `Restore request "${name}" submitted successfully.\n` +
        `Run \`${arkCommand(args.namespace, `restore describe ${name}`)}\` or \`${
          arkCommand(args.namespace, `restore logs ${name}`)
        }\` for more details.`
    )
    return
  }
  yield* Console.log(
    `Restore request "${name}" submitted successfully. Waiting for it to finish (Ctrl-C stops waiting, not the restore).`
  )
  const finished = yield* waitForRestore(created, args.namespace)
  yield* Console.log(outcomeLine(finished))
  if (finished.status?.phase !== "Completed") {
    return yield* new CliError({
      message: `restore "${name}" ended ${finished.status?.phase ?? "New"}, not Completed`,
      hint: `\`${arkCommand(args.namespace, `restore describe ${name} --details`)}\` and \`${
        arkCommand(args.namespace, `restore logs ${name}`)
      }\` show why`
    })
  }
})

/** The rules of --resource-modifier-configmap, checked as the server will: a bad one is refused, naming its rule. */
const requireResourceModifiers = (restore: Restore, namespace: string) =>
  loadResourceModifiers(restore.spec, namespace).pipe(
    Effect.mapError((error) => kubeFailure("cannot read the resource modifiers ConfigMap", namespace)(error)),
    Effect.flatMap(Either.match({
      onLeft: (problems) =>
        Effect.fail(
          new CliError({
            message: `invalid --resource-modifier-configmap: ${problems.join("; ")}; nothing was created`,
            hint: `fix the ConfigMap (\`kubectl -n ${namespace} get configmap ${
              restore.spec.resourceModifier?.name ?? ""
            } -o yaml\` shows it): version v1, resourceModifierRules with conditions.groupResource and one kind of patches`
          })
        ),
      onRight: () => Effect.void
    }))
  )

/** Reads the backup's tarball and prints what the restore would do; writes nothing anywhere. */
const dryRun = Effect.fn("Cli.restoreDryRun")(function*(restore: Restore, source: RestoreSource, namespace: string) {
  const backupName = source._tag === "Backup" ? source.name : yield* latestOfSchedule(source.name, namespace)
  const { backup, store } = yield* backupWithStore(backupName, namespace)
  yield* requireRestorable(backup)
  const planned: Restore = { ...restore, spec: { ...restore.spec, backupName } }
  const entries = yield* dryRunRestore(planned, backup).pipe(
    Effect.provideService(ObjectStore, store),
    Effect.mapError((error) =>
      new CliError({
        message: `cannot plan restore from backup "${backupName}": ${error.reason}`,
        hint: `${arkCommand(namespace, `backup describe ${backupName}`)} shows the backup`
      })
    )
  )
  yield* Console.log(
    `Dry run of restore "${restore.metadata.name ?? ""}" from backup "${backupName}": nothing was created or changed.\n`
  )
  yield* Console.log(dryRunView(entries))
})

const latestOfSchedule = (schedule: string, namespace: string) =>
  latestScheduledBackup(schedule, namespace).pipe(
    Effect.mapError((error) => kubeFailure(`cannot list the backups of schedule "${schedule}"`, namespace)(error)),
    Effect.flatMap(Option.match({
      onNone: () =>
        Effect.fail(
          new CliError({
            message: `schedule "${schedule}" has no Completed backup to restore from`,
            hint: `${arkCommand(namespace, "backup get")} lists the backups`
          })
        ),
      onSome: (name) => Effect.succeed(name)
    }))
  )

const decodeRestore = (object: KubeObject) =>
  Schema.decodeUnknown(Restore)(object).pipe(
    Effect.mapError((error) =>
      new CliError({ message: `restore "${object.metadata.name ?? ""}" is malformed: ${error.message}` })
    )
  )

/** `--wait`: follows the restore until it finishes, showing progress. */
export const waitForRestore = (initial: KubeObject, namespace: string) =>
  followUntilFinished(
    {
      kind: "restore",
      gvr: restoresGvr,
      decode: decodeRestore,
      isFinished: (restore: Restore) => isFinished(restore.status?.phase),
      progressLine: (restore: Restore) => progressLine(restore)
    },
    initial,
    namespace
  )
