// `ark restore get` and `ark restore describe`.
import { Console, Effect, Either, Option, Schema, Stream } from "effect"

import { optional } from "../../api/index.ts"
import { restoreKeys } from "../../archive/layout.ts"
import { gunzipLines } from "../backup/storage.ts"
import type { OutputFormat } from "../render.ts"
import { renderDocument } from "../render.ts"
import { backupWithStore, getRestore, listRestores } from "./kube.ts"
import type { RestoreResults } from "./view.ts"
import { describeRestore, restoreTable } from "./view.ts"

export interface GetArgs {
  readonly name: Option.Option<string>
  readonly namespace: string
  readonly output: OutputFormat
  /** Keep `metadata.managedFields` in JSON and YAML (default: left out). */
  readonly showManagedFields?: boolean
}

export const getRestores = Effect.fn("Cli.restoreGet")(function*(args: GetArgs) {
  const found = yield* Option.match(args.name, {
    onNone: () => listRestores(args.namespace),
    onSome: (name) => Effect.map(getRestore(name, args.namespace), (restore) => [restore])
  })
  if (args.output !== "table") {
    return yield* Console.log(renderDocument(
        args.output,
        found.map(({ raw }) => raw),
        Option.isSome(args.name),
        args.showManagedFields === true
      ))
  }
  if (found.length === 0) return yield* Console.log(`No restores found in namespace ${args.namespace}.`)
  yield* Console.log(restoreTable(found.map(({ decoded }) => decoded)))
})

export interface DescribeArgs {
  readonly name: string
  readonly namespace: string
  readonly details: boolean
}

/**
 * The results file (docs/design.md, "Storage layout"): warnings and errors about Ark, the cluster
 * scope, and each namespace.
 */
const Messages = Schema.Struct({
  ark: optional(Schema.Array(Schema.String)),
  cluster: optional(Schema.Array(Schema.String)),
  namespaces: optional(Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) }))
})
const Results = Schema.Struct({ warnings: optional(Messages), errors: optional(Messages) })

export const describeRestoreCommand = Effect.fn("Cli.restoreDescribe")(function*(args: DescribeArgs) {
  const { decoded: restore } = yield* getRestore(args.name, args.namespace)
  const backupName = restore.spec.backupName ?? ""
  // The results file is best effort: describe still shows the resource when storage cannot be read.
  const details = args.details
    ? Option.some(
      yield* backupWithStore(backupName, args.namespace).pipe(
        Effect.flatMap(({ store }) =>
          gunzipLines(store, restoreKeys(args.name).results).pipe(
            Stream.runFold("", (text, line) => text + line),
            Effect.flatMap((text) => Schema.decodeUnknown(Schema.parseJson(Results))(text))
          )
        ),
        Effect.map((results): Either.Either<RestoreResults, string> => Either.right(results)),
        Effect.catchAll((error) =>
          Effect.succeed(Either.left(
            error._tag === "ObjectNotFound"
              ? "the restore has no results in storage yet (they are written when the restore finishes)"
              : error.message
          ))
        )
      )
    )
    : Option.none()
  yield* Console.log(describeRestore(restore, details))
})
