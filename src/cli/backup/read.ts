// `ark backup get` and `ark backup describe`.
import { Console, DateTime, Effect, Either, Option } from "effect"

import { backupKeys } from "../../archive/layout.ts"
import type { OutputFormat } from "../render.ts"
import { renderDocument } from "../render.ts"
import { selectedResources } from "../selection.ts"
import { getBackup, listBackups } from "./kube.ts"
import { readableStoreOf, readResourceList } from "./storage.ts"
import { backupTable, describeBackup } from "./view.ts"

export interface GetArgs {
  readonly names: ReadonlyArray<string>
  readonly selector: Option.Option<string>
  readonly namespace: string
  readonly output: OutputFormat
  /** Keep `metadata.managedFields` in JSON and YAML (default: left out). */
  readonly showManagedFields?: boolean
}

export const getBackups = Effect.fn("Cli.backupGet")(function*(args: GetArgs) {
  const found = yield* selectedResources("backup", args, {
    get: (name) => getBackup(name, args.namespace),
    list: listBackups(args.namespace)
  })
  if (args.output !== "table") {
    return yield* Console.log(renderDocument(
      args.output,
      found.map(({ raw }) => raw),
      args.names.length === 1,
      args.showManagedFields === true
    ))
  }
  if (found.length === 0) return yield* Console.log(`No backups found in namespace ${args.namespace}.`)
  const now = yield* DateTime.now
  yield* Console.log(backupTable(found.map(({ decoded }) => decoded), now))
})

export interface DescribeArgs {
  readonly name: string
  readonly namespace: string
  readonly details: boolean
  /** age identities for an encrypted backup's resource list. */
  readonly identityFile: Option.Option<string>
}

export const describeBackupCommand = Effect.fn("Cli.backupDescribe")(function*(args: DescribeArgs) {
  const { decoded: backup } = yield* getBackup(args.name, args.namespace)
  // The resource list is best effort: describe still shows the resource when storage cannot be read.
  const details = args.details
    ? Option.some(
      yield* readableStoreOf(backup, args.namespace, args.identityFile).pipe(
        Effect.flatMap((store) => readResourceList(store, backupKeys(args.name).resourceList)),
        Effect.map((list) => Either.right(list)),
        Effect.catchAll((error) =>
          Effect.succeed(Either.left(
            error._tag === "ObjectNotFound"
              ? "the backup has no resource list in storage yet (it is written when the backup finishes)"
              : error.message
          ))
        )
      )
    )
    : Option.none()
  yield* Console.log(describeBackup(backup, yield* DateTime.now, details))
})
