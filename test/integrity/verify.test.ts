import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { runBackup } from "../../src/backup/run.ts"
import { verifyBackup } from "../../src/integrity/verify.ts"
import { configMap, deps, makeBackup, testLayer } from "../backup/fixtures.ts"

const keys = backupKeys("b1")

const bytesOf = (key: string) =>
  ObjectStore.pipe(
    Effect.flatMap((store) => Stream.runCollect(store.get(key))),
    Effect.map((chunks) => Buffer.concat(Chunk.toArray(chunks)))
  )

const put = (key: string, bytes: Uint8Array) =>
  ObjectStore.pipe(Effect.flatMap((store) => store.put(key, Stream.make(bytes))))

/** Two committed backups of different contents: b1 and b2. */
const twoBackups = Effect.gen(function*() {
  const control = yield* MemoryKube.MemoryKube
  yield* control.seed([configMap("app", "settings"), configMap("app", "other"), configMap("web", "page")])
  yield* runBackup(makeBackup({ includedNamespaces: ["app"] }, "b1"), deps)
  yield* runBackup(makeBackup({ includedNamespaces: ["web"] }, "b2"), deps)
})

const verify = (expectedItems?: number) =>
  ObjectStore.pipe(Effect.flatMap((store) => verifyBackup(store, "b1", expectedItems)))

describe("verifyBackup", () => {
  it.effect("an intact backup: every file checked, its items counted, nothing differs", () =>
    Effect.gen(function*() {
      yield* twoBackups
      const report = yield* verify(3)
      assert.deepStrictEqual(report.problems, [])
      assert.strictEqual(report.items, 3) // two ConfigMaps and their namespace
      assert.strictEqual(report.filesChecked, 4)
    }).pipe(Effect.provide(testLayer())))

  it.effect("one byte changed in the tarball: the tarball is named", () =>
    Effect.gen(function*() {
      yield* twoBackups
      const bytes = yield* bytesOf(keys.tarball)
      const middle = Math.floor(bytes.length / 2)
      bytes[middle] = bytes[middle]! ^ 0xff
      yield* put(keys.tarball, bytes)
      const report = yield* verify()
      assert.isTrue(
        report.problems.some((problem) => problem.startsWith("b1.tar.gz: SHA-256")),
        report.problems.join("\n")
      )
    }).pipe(Effect.provide(testLayer())))

  it.effect("a truncated tarball: unreadable, and its size differs", () =>
    Effect.gen(function*() {
      yield* twoBackups
      const bytes = yield* bytesOf(keys.tarball)
      yield* put(keys.tarball, bytes.subarray(0, bytes.length - 40))
      const report = yield* verify()
      assert.isTrue(
        report.problems.some((problem) => problem.includes("unreadable archive")),
        report.problems.join("\n")
      )
      assert.isTrue(
        report.problems.includes(`b1.tar.gz: ${bytes.length - 40} bytes, recorded ${bytes.length}`),
        report.problems.join("\n")
      )
      assert.strictEqual(report.items, undefined)
    }).pipe(Effect.provide(testLayer())))

  it.effect("a valid tarball of another backup swapped in: its digest and item count give it away", () =>
    Effect.gen(function*() {
      yield* twoBackups
      yield* put(keys.tarball, yield* bytesOf(backupKeys("b2").tarball))
      const report = yield* verify(3)
      assert.isTrue(
        report.problems.some((problem) => problem.startsWith("b1.tar.gz: SHA-256")),
        report.problems.join("\n")
      )
      assert.isTrue(report.problems.includes("the tarball holds 2 items, the Backup's status says 3"))
    }).pipe(Effect.provide(testLayer())))

  it.effect("a file missing, a file added, and an uncommitted backup", () =>
    Effect.gen(function*() {
      yield* twoBackups
      const store = yield* ObjectStore
      yield* store.delete(keys.logs)
      yield* put(`${keys.dir}planted.json`, new TextEncoder().encode("{}"))
      const report = yield* verify()
      assert.includeMembers([...report.problems], [
        "b1-logs.gz: missing",
        "planted.json: present but not listed in ark-backup.json"
      ])
      yield* store.delete(keys.metadata)
      assert.deepStrictEqual((yield* verify()).problems, [
        "ark-backup.json is missing: the backup is not committed in this location"
      ])
    }).pipe(Effect.provide(testLayer())))
})
