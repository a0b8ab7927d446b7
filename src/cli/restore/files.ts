// `ark restore logs`: a restore's log, streamed from its backup's storage location.
import { Console, Effect, Stream } from "effect"

import { restoreKeys } from "../../archive/layout.ts"
import { gunzipLines, storageFailure } from "../backup/storage.ts"
import { CliError } from "../errors.ts"
import type { LogsArgs } from "../logText.ts"
import { formatLogLine } from "../logText.ts"
import { arkCommand } from "../namespace.ts"
import { backupWithStore, getRestore } from "./kube.ts"

export interface NamedArgs {
  readonly name: string
  readonly namespace: string
}

export const restoreLogs = Effect.fn("Cli.restoreLogs")(function*(args: LogsArgs) {
  const { decoded: restore } = yield* getRestore(args.name, args.namespace)
  const backupName = restore.spec.backupName ?? ""
  if (backupName === "") {
    return yield* new CliError({
      message: `restore "${args.name}" has not resolved its backup yet, so it has no logs`,
      hint: `its phase is ${restore.status?.phase ?? "New"} (${
        arkCommand(args.namespace, `restore describe ${args.name}`)
      })`
    })
  }
  const { backup, store } = yield* backupWithStore(backupName, args.namespace)
  yield* gunzipLines(store, restoreKeys(args.name).logs).pipe(
    Stream.runForEach((line) => Console.log(formatLogLine(args.output, line))),
    Effect.mapError((error) =>
      error._tag === "ObjectNotFound"
        ? new CliError({
          message: `restore "${args.name}" has no logs in storage location "${backup.spec.storageLocation}"`,
          hint: `they are uploaded when the restore finishes; its phase is ${restore.status?.phase ?? "New"} (${
            arkCommand(args.namespace, `restore describe ${args.name}`)
          })`
        })
        : storageFailure(`cannot read the logs of restore "${args.name}"`, backup)(error)
    )
  )
})
