// Reads a backup back from storage and says exactly what differs from what it recorded at commit:
// each file's presence, size and SHA-256, files nobody listed, every tarball entry parsed, and the
// item count. One read of each file; the tarball is hashed and parsed in the same pass.
import type { KeyObject } from "node:crypto"

import { Effect, Either, Option, Ref, Schema, Stream } from "effect"

import type { ObjectStore } from "../../services/ObjectStore.ts"
import type { StoredFile } from "../api/backup.ts"
import { Backup } from "../api/backup.ts"
import { backupKeys } from "../archive/layout.ts"
import { readArchive } from "../archive/reader.ts"
import { decrypting } from "./age.ts"
import type { Digest } from "./digest.ts"
import { digesting, digestOf } from "./digest.ts"
import { signatureKeyOf, signatureMatches } from "./signature.ts"

export interface VerifyReport {
  readonly backup: string
  /** Files checked against their recorded digest. */
  readonly filesChecked: number
  /** Object entries in the tarball, when it could be read to the end. */
  readonly items: number | undefined
  /** What differs, one line each; empty when the backup is intact. */
  readonly problems: ReadonlyArray<string>
}

const decodeStored = Schema.decodeUnknownEither(Schema.parseJson(Backup))

const readText = (store: ObjectStore.Shape, key: string) => store.get(key).pipe(Stream.decodeText(), Stream.mkString)

/**
 * Reads the tarball once: its digest, and every entry parsed as JSON; the first unreadable entry is
 * a problem. An encrypted tarball is parsed only with `identities` (its digest is of the ciphertext).
 */
const readTarball = (store: ObjectStore.Shape, key: string, identities: ReadonlyArray<string> | undefined) =>
  Effect.gen(function*() {
    const digest = yield* Ref.make<Digest | undefined>(undefined)
    const problems: Array<string> = []
    let items = 0
    const stored = digesting(store.get(key), (done) => Ref.set(digest, done))
    const read = yield* readArchive(identities === undefined ? stored : decrypting(identities, stored)).pipe(
      Stream.runForEach((entry) =>
        Effect.sync(() => {
          if (entry.location._tag !== "Resource") return
          items++
          try {
            JSON.parse(new TextDecoder().decode(entry.data))
          } catch {
            problems.push(`${key}: entry ${entry.path} is not valid JSON`)
          }
        })
      ),
      Effect.either
    )
    if (Either.isLeft(read)) problems.push(`${key}: ${read.left.message}`)
    return { digest: yield* Ref.get(digest), items: Either.isRight(read) ? items : undefined, problems }
  })

const compare = (file: StoredFile, digest: Digest | undefined): ReadonlyArray<string> =>
  digest === undefined
    ? []
    : [
      ...(digest.size === file.size ? [] : [`${file.name}: ${digest.size} bytes, recorded ${file.size}`]),
      ...(digest.sha256 === file.sha256 ? [] : [`${file.name}: SHA-256 ${digest.sha256}, recorded ${file.sha256}`])
    ]

export interface VerifyOptions {
  /** The item count the cluster's Backup resource reports, checked as well as the one stored at commit. */
  readonly expectedItems?: number | undefined
  /** The location's Ed25519 public key: ark-backup.json must carry a valid signature by it. */
  readonly verificationKey?: KeyObject | undefined
  /** age identities: an encrypted backup's tarball is decrypted and parsed too, not only hashed. */
  readonly identities?: ReadonlyArray<string> | undefined
}

/** The signature problem of ark-backup.json, if any. */
const signatureProblem = (store: ObjectStore.Shape, metadataKey: string, text: string, key: KeyObject) =>
  readText(store, signatureKeyOf(metadataKey)).pipe(
    Effect.map((signature) =>
      signatureMatches(key, new TextEncoder().encode(text), signature)
        ? []
        : ["ark-backup.json: its signature does not match the location's verification key"]
    ),
    Effect.catchTag("ObjectNotFound", () => Effect.succeed(["ark-backup.json is not signed"]))
  )

/** Verifies backup `name` in `store` against what its ark-backup.json recorded (and signed). */
export const verifyBackup = (store: ObjectStore.Shape, name: string, options: VerifyOptions = {}) =>
  Effect.gen(function*() {
    const { expectedItems, identities, verificationKey } = options
    const keys = backupKeys(name)
    const report = (problems: ReadonlyArray<string>, filesChecked = 0, items?: number): VerifyReport => ({
      backup: name,
      filesChecked,
      items,
      problems
    })
    const text = yield* readText(store, keys.metadata).pipe(Effect.either)
    if (Either.isLeft(text)) {
      return report([
        text.left._tag === "ObjectNotFound"
          ? `ark-backup.json is missing: the backup is not committed in this location`
          : `ark-backup.json: ${text.left.message}`
      ])
    }
    // An unsigned or forged ark-backup.json is not trusted for anything else it says.
    if (verificationKey !== undefined) {
      const unsigned = yield* signatureProblem(store, keys.metadata, text.right, verificationKey)
      if (unsigned.length > 0) return report(unsigned)
    }
    const stored = decodeStored(text.right)
    if (Either.isLeft(stored)) return report([`ark-backup.json is not a Backup: ${stored.left.message}`])
    const files = stored.right.status?.files
    if (files === undefined) {
      return report(["ark-backup.json records no file digests (the backup predates them): nothing to verify against"])
    }

    const problems: Array<string> = []
    let items: number | undefined
    // Without the identity an encrypted tarball is only hashed, like the other files.
    const encrypted = stored.right.status?.encryption === "age"
    for (const file of files) {
      const key = `${keys.dir}${file.name}`
      if (key === keys.tarball && (!encrypted || identities !== undefined)) {
        const tarball = yield* readTarball(store, key, encrypted ? identities : undefined)
        items = tarball.items
        problems.push(...tarball.problems, ...compare(file, tarball.digest))
        continue
      }
      const digest = yield* digestOf(store.get(key)).pipe(Effect.either)
      if (Either.isLeft(digest)) {
        problems.push(
          digest.left._tag === "ObjectNotFound" ? `${file.name}: missing` : `${file.name}: ${digest.left.message}`
        )
      } else problems.push(...compare(file, digest.right))
    }
    if (!files.some((file) => `${keys.dir}${file.name}` === keys.tarball)) {
      problems.push(`${name}.tar.gz is not listed in ark-backup.json`)
    }

    const listed = new Set(
      files.map((file) => `${keys.dir}${file.name}`).concat(keys.metadata, signatureKeyOf(keys.metadata))
    )
    const present = yield* store.list(keys.dir)
    for (const object of present.objects) {
      if (!listed.has(object.key)) {
        problems.push(`${object.key.slice(keys.dir.length)}: present but not listed in ark-backup.json`)
      }
    }

    const recorded = Option.fromNullable(stored.right.status?.progress?.itemsBackedUp)
    if (items !== undefined && Option.isSome(recorded) && items !== recorded.value) {
      problems.push(`the tarball holds ${items} items, ark-backup.json records ${recorded.value}`)
    }
    if (items !== undefined && expectedItems !== undefined && items !== expectedItems) {
      problems.push(`the tarball holds ${items} items, the Backup's status says ${expectedItems}`)
    }
    return report(problems, files.length, items)
  })
