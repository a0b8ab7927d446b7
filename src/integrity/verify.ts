// Reads a backup back from storage and says exactly what differs from what it recorded at commit:
// each file's presence, size and SHA-256, files nobody listed, every tarball entry parsed, and the
// item count. One read of each file; the tarball is hashed and parsed in the same pass.
import { Effect, Either, Option, Ref, Schema, Stream } from "effect"

import type { ObjectStore } from "../../services/ObjectStore.ts"
import type { StoredFile } from "../api/backup.ts"
import { Backup } from "../api/backup.ts"
import { backupKeys } from "../archive/layout.ts"
import { readArchive } from "../archive/reader.ts"
import type { Digest } from "./digest.ts"
import { digesting, digestOf } from "./digest.ts"

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

/** Reads the tarball once: its digest, and every entry parsed as JSON; the first unreadable entry is a problem. */
const readTarball = (store: ObjectStore.Shape, key: string) =>
  Effect.gen(function*() {
    const digest = yield* Ref.make<Digest | undefined>(undefined)
    const problems: Array<string> = []
    let items = 0
    const read = yield* readArchive(digesting(store.get(key), (done) => Ref.set(digest, done))).pipe(
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

/**
 * Verifies backup `name` in `store`. `expectedItems`, when given, is the item count the cluster's
 * Backup resource reports, checked as well as the one stored at commit.
 */
export const verifyBackup = (store: ObjectStore.Shape, name: string, expectedItems?: number) =>
  Effect.gen(function*() {
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
    const stored = decodeStored(text.right)
    if (Either.isLeft(stored)) return report([`ark-backup.json is not a Backup: ${stored.left.message}`])
    const files = stored.right.status?.files
    if (files === undefined) {
      return report(["ark-backup.json records no file digests (the backup predates them): nothing to verify against"])
    }

    const problems: Array<string> = []
    let items: number | undefined
    for (const file of files) {
      const key = `${keys.dir}${file.name}`
      if (key === keys.tarball) {
        const tarball = yield* readTarball(store, key)
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

    const listed = new Set(files.map((file) => `${keys.dir}${file.name}`).concat(keys.metadata))
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
