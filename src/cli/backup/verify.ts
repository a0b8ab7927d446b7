// `ark backup verify NAME|--all`: reads each backup back from its storage location and checks it
// against the digests its ark-backup.json recorded (src/integrity/verify.ts). An encrypted backup's
// tarball is decrypted and parsed too when an identity is at hand (--identity-file, else the
// location's identity Secret); without one only its digests are checked, and the output says so.
import { Console, Effect, Either, Option } from "effect"

import { KubeClient } from "../../../services/KubeClient.ts"
import { backupKeys } from "../../archive/layout.ts"
import { checkIdentity, isEncryptedBackup, readIdentities } from "../../integrity/encryption.ts"
import { readLocationKeys } from "../../integrity/signature.ts"
import { verifyBackup } from "../../integrity/verify.ts"
import { CliError } from "../errors.ts"
import { getBackup, listBackups } from "./kube.ts"
import { identityHint, locationOf, readIdentityFile, storageFailure } from "./storage.ts"

export interface VerifyArgs {
  readonly name: Option.Option<string>
  readonly all: boolean
  readonly namespace: string
  /** age identities for encrypted backups, instead of the location's identity Secret. */
  readonly identityFile: Option.Option<string>
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
  // Read once, before any backup: a file that holds no identity is refused at once.
  const given = Option.isSome(args.identityFile)
    ? Option.some(yield* readIdentityFile(args.identityFile.value))
    : Option.none<ReadonlyArray<string>>()
  let failed = 0
  let unopened = 0
  for (const backup of committed) {
    const name = backup.metadata.name ?? ""
    const { location, store } = yield* locationOf(backup, args.namespace)
    // A plain backup needs none; for an encrypted one, the identities or why there are none.
    const identities: Either.Either<ReadonlyArray<string>, string> = !isEncryptedBackup(backup)
      ? Either.right([])
      : Option.isSome(given)
      ? Either.right(given.value)
      : yield* readIdentities(kube, location)
    // A missing tarball is verify's to report, not a wrong identity.
    const tarballStored = yield* store.exists(backupKeys(name).tarball).pipe(
      Effect.mapError(storageFailure(`cannot verify backup "${name}"`, backup))
    )
    if (isEncryptedBackup(backup) && Either.isRight(identities) && tarballStored) {
      const opens = yield* checkIdentity(store, name, identities.right).pipe(Effect.either)
      if (Either.isLeft(opens)) {
        if (Option.isSome(args.name)) return yield* new CliError({ message: opens.left, hint: identityHint })
        // With --all, backups from before a key rotation may need another identity: verify the rest.
        unopened++
        yield* Console.log(`${name}: NOT VERIFIED: ${opens.left}`)
        continue
      }
    }
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
      verificationKey: Option.getOrUndefined(keys.verification),
      identities: Either.getOrUndefined(identities)
    }).pipe(
      Effect.mapError(storageFailure(`cannot verify backup "${name}"`, backup))
    )
    if (report.problems.length === 0) {
      yield* Console.log(
        report.items === undefined
          ? `${name}: verified, ${report.filesChecked} files intact (encrypted: their digests, not the tarball's entries)`
          : `${name}: verified, ${report.filesChecked} files and ${report.items} items intact`
      )
      if (report.items === undefined && Either.isLeft(identities)) {
        yield* Console.log(`  not decrypted: ${identities.left}; pass --identity-file FILE to check the entries too`)
      }
    } else {
      failed++
      yield* Console.log(`${name}: FAILED verification`)
      for (const problem of report.problems) yield* Console.log(`  ${problem}`)
    }
  }
  if (failed > 0) {
    return yield* new CliError({
      message: `${failed} of ${committed.length} backups failed verification${
        unopened > 0 ? `, ${unopened} could not be decrypted with the identity` : ""
      }`,
      hint: "a backup that fails verification should not be restored; see the lines above for what differs"
    })
  }
  if (unopened > 0) {
    return yield* new CliError({
      message: `${unopened} of ${committed.length} backups could not be decrypted with the identity`,
      hint: `${identityHint} (an identity file may hold several keys, one a line)`
    })
  }
})
