import { assert, describe, it } from "@effect/vitest"
import { generateX25519Identity, identityToRecipient } from "age-encryption"
import { Chunk, Effect, Either, Option, Schema, Stream } from "effect"
import * as fc from "effect/FastCheck"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { Backup } from "../../src/api/backup.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { readArchive } from "../../src/archive/reader.ts"
import { runBackup } from "../../src/backup/run.ts"
import { decrypting, encrypting, parseIdentities, parseRecipients } from "../../src/integrity/age.ts"
import { checkIdentity, decryptingStore, readableStore } from "../../src/integrity/encryption.ts"
import { readWholeBackup } from "../../src/integrity/minimal.ts"
import { verifyBackup } from "../../src/integrity/verify.ts"
import { configMap, deps, makeBackup, testLayer } from "../backup/fixtures.ts"

const newKey = Effect.promise(async () => {
  const identity = await generateX25519Identity()
  return { identity, recipient: await identityToRecipient(identity) }
})

const collect = <E>(body: Stream.Stream<Uint8Array, E>) =>
  Stream.runCollect(body).pipe(Effect.map((chunks) => Buffer.concat(Chunk.toArray(chunks))))

/** `bytes` cut into pieces of the given sizes (and the rest), as a store hands a body over. */
const pieces = (bytes: Uint8Array, sizes: ReadonlyArray<number>) => {
  const out: Array<Uint8Array> = []
  let at = 0
  for (const size of sizes) {
    if (at >= bytes.length) break
    out.push(bytes.subarray(at, at + size))
    at += size
  }
  if (at < bytes.length) out.push(bytes.subarray(at))
  return Stream.fromIterable(out)
}

const AGE_HEADER = "age-encryption.org/v1\n"
const SECRET_VALUE = "correct-horse-battery-staple"

describe("age streams", () => {
  it.effect.prop(
    "decrypting what encrypting wrote gives the bytes back, however the body is cut",
    [fc.uint8Array({ maxLength: 200_000 }), fc.array(fc.integer({ min: 1, max: 70_000 }), { maxLength: 6 })],
    ([bytes, sizes]) =>
      Effect.gen(function*() {
        const key = yield* newKey
        const sealed = yield* collect(encrypting([key.recipient], pieces(bytes, sizes)))
        assert.strictEqual(sealed.subarray(0, AGE_HEADER.length).toString("latin1"), AGE_HEADER)
        const opened = yield* collect(decrypting([key.identity], pieces(sealed, sizes)))
        assert.isTrue(Buffer.from(bytes).equals(opened))
      }),
    { fastCheck: { numRuns: 15 } }
  )

  it.effect("streams: an endless body gives its first encrypted chunks, and they decrypt as they come", () =>
    Effect.gen(function*() {
      const key = yield* newKey
      const endless = Stream.repeatValue(new Uint8Array(64 * 1024).fill(7))
      const opened = yield* decrypting([key.identity], encrypting([key.recipient], endless)).pipe(
        Stream.take(20),
        Stream.runCollect
      )
      assert.strictEqual(Chunk.size(opened), 20)
      assert.isTrue(Chunk.every(opened, (chunk) => chunk.length === 64 * 1024 && chunk.every((b) => b === 7)))
    }))

  it.effect("a file is read with any one of several identities (key rotation)", () =>
    Effect.gen(function*() {
      const [old, current] = [yield* newKey, yield* newKey]
      const sealed = yield* collect(encrypting([old.recipient], Stream.make(Buffer.from("old backup"))))
      const opened = yield* collect(decrypting([current.identity, old.identity], Stream.make(sealed)))
      assert.strictEqual(opened.toString(), "old backup")
    }))

  it.effect("another identity, a changed byte and a cut-short file each fail, with why", () =>
    Effect.gen(function*() {
      const [key, other] = [yield* newKey, yield* newKey]
      const sealed = yield* collect(encrypting([key.recipient], Stream.make(new Uint8Array(100_000).fill(1))))
      const failure = (bytes: Uint8Array, identity: string) =>
        collect(decrypting([identity], Stream.make(bytes))).pipe(
          Effect.flip,
          Effect.map((error) => error.message)
        )
      assert.match(yield* failure(sealed, other.identity), /none of the identity's keys is a recipient/)
      const changed = Buffer.from(sealed)
      changed[changed.length - 10] = changed[changed.length - 10]! ^ 1
      assert.match(yield* failure(changed, key.identity), /changed or cut short/)
      assert.match(yield* failure(sealed.subarray(0, sealed.length - 100), key.identity), /changed or cut short/)
    }))

  it.effect("the body's own failure comes out as itself", () =>
    Effect.gen(function*() {
      const key = yield* newKey
      const body = Stream.concat(Stream.make(new Uint8Array(10)), Stream.fail("storage went away" as const))
      const error = yield* collect(encrypting([key.recipient], body)).pipe(Effect.flip)
      assert.strictEqual(error, "storage went away")
    }))

  it.effect("a bad key is named by its line, never echoed", () =>
    Effect.gen(function*() {
      const key = yield* newKey
      const identities = parseIdentities(`# created: today\n${key.identity}\nAGE-SECRET-KEY-1NOTAKEY\n`, "keys.txt")
      assert.isTrue(Either.isLeft(identities))
      const message = Either.isLeft(identities) ? identities.left.message : ""
      assert.strictEqual(message, "keys.txt: line 3 is not an age X25519 identity (AGE-SECRET-KEY-1...)")
      assert.deepStrictEqual(parseIdentities(`# a comment\n\n${key.identity}\n`, "f"), Either.right([key.identity]))
      assert.deepStrictEqual(parseRecipients(`${key.recipient}\n`, "r"), Either.right([key.recipient]))
      assert.isTrue(Either.isLeft(parseRecipients(key.identity, "r")))
      assert.isTrue(Either.isLeft(parseRecipients("", "r")))
    }))
})

const textOf = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1")

describe("an encrypted backup on the Memory layers", () => {
  const keys = backupKeys("b1")
  const seeded = MemoryKube.MemoryKube.pipe(
    Effect.flatMap((control) =>
      control.seed([configMap("app", "settings", {}, { password: SECRET_VALUE }), configMap("app", "other")])
    )
  )
  const encryptedBackup = (recipients: ReadonlyArray<string>, name = "b1") =>
    runBackup(makeBackup({ includedNamespaces: ["app"] }, name), { ...deps, recipients })

  it.effect("every file but ark-backup.json is age, no value is in storage, and digests are of the ciphertext", () =>
    Effect.gen(function*() {
      const key = yield* newKey
      yield* seeded
      const backup = yield* encryptedBackup([key.recipient])
      assert.strictEqual(backup.status?.phase, "Completed")
      assert.strictEqual(backup.status?.encryption, "age")
      const store = yield* ObjectStore
      const listed = (yield* store.list(keys.dir)).objects
      assert.isAbove(listed.length, 3)
      for (const object of listed) {
        const bytes = yield* collect(store.get(object.key))
        assert.notInclude(textOf(bytes), SECRET_VALUE, object.key)
        if (object.key === keys.metadata) {
          const committed = Schema.decodeUnknownSync(Schema.parseJson(Backup))(textOf(bytes))
          assert.strictEqual(committed.status?.encryption, "age")
        } else assert.isTrue(textOf(bytes).startsWith(AGE_HEADER), object.key)
      }
      // Verify needs no identity: the digests are of the bytes stored.
      const blind = yield* verifyBackup(store, "b1")
      assert.deepStrictEqual(blind.problems, [])
      assert.strictEqual(blind.items, undefined)
      const full = yield* verifyBackup(store, "b1", { identities: [key.identity] })
      assert.deepStrictEqual(full.problems, [])
      assert.strictEqual(full.items, 3)
    }).pipe(Effect.provide(testLayer())))

  it.effect("read back with the identity: the tarball holds the items; without one, why not", () =>
    Effect.gen(function*() {
      const key = yield* newKey
      yield* seeded
      const backup = yield* encryptedBackup([key.recipient])
      const store = yield* ObjectStore
      const readable = readableStore(store, backup, Either.right([key.identity]))
      assert.isTrue(Either.isRight(readable))
      const opened = Either.getOrThrow(readable)
      const entries = yield* Stream.runCollect(readArchive(opened.get(keys.tarball)))
      const settings = Chunk.findFirst(entries, (entry) => entry.path.endsWith("/app/settings.json"))
      assert.isTrue(Option.isSome(settings))
      assert.include(Option.match(settings, { onNone: () => "", onSome: (e) => textOf(e.data) }), SECRET_VALUE)
      assert.deepStrictEqual(
        readableStore(store, backup, Either.left("the location names no identity Secret")),
        Either.left(`backup "b1" is encrypted with age: the location names no identity Secret`)
      )
    }).pipe(Effect.provide(testLayer())))

  it.effect("rotation: backups for key1 and key2 both read with an identity holding both; one key reads one", () =>
    Effect.gen(function*() {
      const [key1, key2] = [yield* newKey, yield* newKey]
      yield* seeded
      yield* encryptedBackup([key1.recipient], "b1")
      yield* encryptedBackup([key2.recipient], "b2")
      const store = yield* ObjectStore
      const both = [key1.identity, key2.identity]
      yield* checkIdentity(store, "b1", both)
      yield* checkIdentity(store, "b2", both)
      const wrong = yield* checkIdentity(store, "b2", [key1.identity]).pipe(Effect.flip)
      assert.strictEqual(
        wrong,
        `backup "b2" cannot be decrypted with the identity: none of the identity's keys is a recipient of this file (it was encrypted for other keys)`
      )
      const logs = yield* collect(decryptingStore(store, backupKeys("b2"), both).get(backupKeys("b2").logs))
      assert.isAbove(logs.length, 0)
    }).pipe(Effect.provide(testLayer())))

  // What the spec, labels and annotations say about the cluster, none of which sync or GC needs.
  const sensitive = {
    namespace: "payroll",
    hookCommand: "/usr/local/bin/freeze-ledger",
    selectorValue: "ledger-tier",
    label: "team-payroll-owner",
    annotation: "ticket-4711-private",
    ordered: "payroll/zz-first"
  }
  const revealingBackup = (): Backup => {
    const made = makeBackup({
      includedNamespaces: [sensitive.namespace],
      labelSelector: { matchLabels: { tier: sensitive.selectorValue } },
      orderedResources: { configmaps: sensitive.ordered },
      hooks: {
        resources: [{ name: "freeze", pre: [{ exec: { container: "db", command: [sensitive.hookCommand] } }] }]
      }
    })
    return {
      ...made,
      metadata: { ...made.metadata, labels: { owner: sensitive.label }, annotations: { note: sensitive.annotation } }
    }
  }
  const seedPayroll = MemoryKube.MemoryKube.pipe(
    Effect.flatMap((control) =>
      control.seed([configMap(sensitive.namespace, "ledger", { tier: sensitive.selectorValue })])
    )
  )

  it.effect("ark-backup.json holds no spec value, label or annotation; the encrypted resource holds the whole Backup", () =>
    Effect.gen(function*() {
      const key = yield* newKey
      yield* seedPayroll
      const backup = yield* runBackup(revealingBackup(), { ...deps, recipients: [key.recipient] })
      assert.strictEqual(backup.status?.phase, "Completed", JSON.stringify(backup.status))
      const store = yield* ObjectStore
      const plain = textOf(yield* collect(store.get(keys.metadata)))
      for (const value of Object.values(sensitive)) assert.notInclude(plain, value)
      const committed = Schema.decodeUnknownSync(Schema.parseJson(Backup))(plain)
      assert.deepStrictEqual(committed.status, backup.status)
      assert.deepStrictEqual(committed.metadata, { name: "b1", namespace: "heptio-ark" })
      assert.strictEqual(committed.spec.storageLocation, "default")
      assert.strictEqual(committed.spec.ttl, backup.spec.ttl)
      // Listed with its digest like every other file, so verify checks it too.
      assert.include(backup.status?.files?.map((file) => file.name) ?? [], "ark-backup-resource.json.age")
      assert.isTrue(textOf(yield* collect(store.get(keys.resource))).startsWith(AGE_HEADER))
      assert.deepStrictEqual((yield* verifyBackup(store, "b1")).problems, [])

      const whole = yield* readWholeBackup(store, committed, [key.identity])
      assert.deepStrictEqual(whole, backup)
      const other = yield* newKey
      assert.match(
        yield* readWholeBackup(store, committed, [other.identity]).pipe(Effect.flip),
        /ark-backup-resource\.json\.age: .*none of the identity's keys is a recipient/
      )
    }).pipe(Effect.provide(testLayer())))

  it.effect("an unencrypted backup's ark-backup.json is the whole Backup, and there is no resource file", () =>
    Effect.gen(function*() {
      yield* seedPayroll
      const backup = yield* runBackup(revealingBackup(), deps)
      const store = yield* ObjectStore
      assert.strictEqual(textOf(yield* collect(store.get(keys.metadata))), JSON.stringify(backup))
      assert.isFalse(yield* store.exists(keys.resource))
    }).pipe(Effect.provide(testLayer())))
})
