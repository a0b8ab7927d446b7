// `ark backup verify NAME|--all`: reads each backup back from its storage location and checks it
// against the digests its ark-backup.json recorded (src/integrity/verify.ts).
import { Console, Effect, Option } from "effect"

import { KubeClient } from "../../../services/KubeClient.ts"
import { readLocationKeys } from "../../integrity/signature.ts"
import { verifyBackup } from "../../integrity/verify.ts"
import { CliError } from "../errors.ts"
import { getBackup, listBackups } from "./kube.ts"
import { locationOf, storageFailure } from "./storage.ts"

export interface VerifyArgs {
  readonly name: Option.Option<string>
  readonly all: boolean
  readonly namespace: string
}

export const verifyBackups = Effect.fn("Cli.backupVerify")(function*(args: VerifyArgs) {
  const kube = yield* KubeClient
  if (Option.isSome(args.name) === args.all) {
    return yield* new CliError({
      message: args.all ? "give a backup's name or --all, not both" : "which backup? give its name, or --all",
      hint: "ark backup verify NAME, or ark backup verify --all"
    })
  }
  const backups = Option.isSome(args.name)
    ? [(yield* getBackup(args.name.value, args.namespace)).decoded]
    : (yield* listBackups(args.namespace)).map(({ decoded }) => decoded)
  const committed = backups.filter((backup) => ["Completed", "PartiallyFailed"].includes(backup.status?.phase ?? ""))
  if (Option.isSome(args.name) && committed.length === 0) {
    return yield* new CliError({
      message: `backup "${args.name.value}" is ${
        backups[0]?.status?.phase ?? "New"
      }: only a finished backup has files to verify`,
      hint: `ark backup describe ${args.name.value}`
    })
  }
  let failed = 0
  for (const backup of committed) {
    const name = backup.metadata.name ?? ""
    const { location, store } = yield* locationOf(backup, args.namespace)
    // A location with a verification key: the signature is checked too, as the server would.
    const keys = yield* readLocationKeys(kube, location).pipe(
      Effect.mapError((error) =>
        new CliError({
          message: `backup storage location "${backup.spec.storageLocation}": ${error.message}`,
          hint: "the location's verificationKey names a Secret key holding an Ed25519 public key (PEM)"
        })
      )
    )
    const report = yield* verifyBackup(store, name, {
      expectedItems: backup.status?.progress?.itemsBackedUp,
      verificationKey: Option.getOrUndefined(keys.verification)
    }).pipe(
      Effect.mapError(storageFailure(`cannot verify backup "${name}"`, backup))
    )
    if (report.problems.length === 0) {
      yield* Console.log(
        report.items === undefined
          ? `${name}: verified, ${report.filesChecked} files intact (encrypted: their digests, not the tarball's entries)`
          : `${name}: verified, ${report.filesChecked} files and ${report.items} items intact`
      )
    } else {
      failed++
      yield* Console.log(`${name}: FAILED verification`)
      for (const problem of report.problems) yield* Console.log(`  ${problem}`)
    }
  }
  if (failed > 0) {
    return yield* new CliError({
      message: `${failed} of ${committed.length} backups failed verification`,
      hint: "a backup that fails verification should not be restored; see the lines above for what differs"
    })
  }
})
