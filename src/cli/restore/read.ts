// `ark restore get` and `ark restore describe`.
import { Console, Effect, Either, Option, Schema, Stream } from "effect"

import type { ObjectStore } from "../../../services/ObjectStore.ts"
import { optional } from "../../api/index.ts"
import { restoreKeys } from "../../archive/layout.ts"
import type { ItemResult } from "../../restore/outcomes.ts"
import { gunzipLines } from "../backup/storage.ts"
import type { OutputFormat } from "../render.ts"
import { renderDocument } from "../render.ts"
import { selectedResources } from "../selection.ts"
import { backupWithStore, getRestore, listRestores } from "./kube.ts"
import type { RestoreDetails, RestoreResults } from "./view.ts"
import { describeRestore, restoreTable } from "./view.ts"

export interface GetArgs {
  readonly names: ReadonlyArray<string>
  readonly selector: Option.Option<string>
  readonly namespace: string
  readonly output: OutputFormat
  /** Keep `metadata.managedFields` in JSON and YAML (default: left out). */
  readonly showManagedFields?: boolean
}

export const getRestores = Effect.fn("Cli.restoreGet")(function*(args: GetArgs) {
  const found = yield* selectedResources("restore", args, {
    get: (name) => getRestore(name, args.namespace),
    list: listRestores(args.namespace)
  })
  if (args.output !== "table") {
    return yield* Console.log(renderDocument(
      args.output,
      found.map(({ raw }) => raw),
      args.names.length === 1,
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

/** A line of the items file (src/restore/outcomes.ts). */
const ItemLine = Schema.parseJson(Schema.Struct({
  outcome: Schema.Literal("created", "updated", "unchanged", "skipped", "failed"),
  resource: optional(Schema.String),
  namespace: optional(Schema.String),
  name: optional(Schema.String),
  reason: optional(Schema.String)
}))

/** A missing file, or one that cannot be read, as the reason describe shows in its place. */
const unavailable = (what: string) => (error: { readonly _tag: string; readonly message: string }) =>
  error._tag === "ObjectNotFound"
    ? `the restore has no ${what} in storage yet (written when the restore finishes)`
    : error.message

const readDetails = (store: ObjectStore.Shape, name: string) =>
  Effect.all({
    results: gunzipLines(store, restoreKeys(name).results).pipe(
      Stream.runFold("", (text, line) => text + line),
      Effect.flatMap((text) => Schema.decodeUnknown(Schema.parseJson(Results))(text)),
      Effect.map((results): Either.Either<RestoreResults, string> => Either.right(results)),
      Effect.catchAll((error) => Effect.succeed(Either.left(unavailable("results")(error))))
    ),
    items: gunzipLines(store, restoreKeys(name).items).pipe(
      Stream.filter((line) => line !== ""),
      Stream.mapEffect((line) => Schema.decodeUnknown(ItemLine)(line)),
      Stream.runCollect,
      Effect.map((items): Either.Either<ReadonlyArray<ItemResult>, string> => Either.right([...items])),
      Effect.catchAll((error) => Effect.succeed(Either.left(unavailable("list of items")(error))))
    )
  })

export const describeRestoreCommand = Effect.fn("Cli.restoreDescribe")(function*(args: DescribeArgs) {
  const { decoded: restore } = yield* getRestore(args.name, args.namespace)
  const backupName = restore.spec.backupName ?? ""
  // The files are best effort: describe still shows the resource when storage cannot be read.
  const details: Option.Option<RestoreDetails> = args.details
    ? Option.some(
      yield* backupWithStore(backupName, args.namespace).pipe(
        Effect.flatMap(({ store }) => readDetails(store, args.name)),
        Effect.catchAll((error) =>
          Effect.succeed({ results: Either.left(error.message), items: Either.left(error.message) })
        )
      )
    )
    : Option.none()
  yield* Console.log(describeRestore(restore, details))
})
