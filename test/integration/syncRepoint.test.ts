// A real `ark server` on the real cluster and MinIO, its location re-pointed at a prefix holding one
// unrelated backup: no Backup is pruned, the reason is in the log and in the location's status;
// pointing it back changes nothing; and a backup really deleted from its prefix is still pruned.
import { randomUUID } from "node:crypto"

import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Stream } from "effect"

import { KubeClient } from "../../services/KubeClient.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { locationMarkerKey } from "../../src/locations/marker.ts"
import { storageIdentityAnnotation } from "../../src/sync/markers.ts"
import { waitFor } from "../support/wait.ts"
import { liveKube } from "./live.ts"
import type { ServerProcess } from "./serverProcess.ts"
import {
  arkGvr,
  arkServer,
  kubeconfigOf,
  listAll,
  logged,
  putStoredBackup,
  serverNamespace,
  sharedMinio,
  statusOf,
  storeAt
} from "./serverProcess.ts"

const run = randomUUID().slice(0, 8)
const deadline = "120 seconds"

const noArchive = Stream.make(new TextEncoder().encode("not read by sync"))

describe("sync after a location is re-pointed", () => {
  it.live(
    "re-pointed at a prefix holding one unrelated backup: 0 pruned, the reason logged and in status; pointing back changes nothing",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const namespace = `ark-it-repoint-${run}`
        const first = yield* sharedMinio(`ark-it-repoint-${run}-a`)
        const second = { ...first, prefix: `ark-it-repoint-${run}-b` }
        const ours = ["nightly-1", "nightly-2", "nightly-3", "nightly-4", "nightly-5"]
        for (const name of ours) yield* putStoredBackup(first, namespace, name, noArchive)
        yield* putStoredBackup(second, namespace, "unrelated", noArchive)
        yield* serverNamespace(namespace, first)
        const server = yield* arkServer(yield* kubeconfigOf(1), namespace)
        const show = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
          effect.pipe(Effect.tapError(() => Effect.sync(() => console.log(server.output()))))

        const backupNames = listAll(arkGvr.backups, namespace).pipe(
          Effect.map((items) => items.map((item) => item.metadata.name ?? "").sort())
        )
        const locationStatus = kube.get(arkGvr.locations, "default", namespace).pipe(
          Effect.map((object) => statusOf(object))
        )
        const waitStatus = (what: string, done: (status: Record<string, unknown>) => boolean) =>
          show(waitFor(
            what,
            locationStatus.pipe(Effect.map((status) => Option.some(status).pipe(Option.filter(done)))),
            deadline
          ))
        const pointedAt = (prefix: string) => (status: Record<string, unknown>) =>
          (status["storageIdentity"] as { prefix?: string } | undefined)?.prefix === prefix
        const repoint = (prefix: string) =>
          kube.patch(arkGvr.locations, "default", {
            type: "merge",
            body: { spec: { objectStorage: { bucket: first.bucket, prefix } } }
          }, namespace)

        // Validation writes the prefix's marker; sync imports the five and records where it found them.
        const identified = yield* show(waitFor(
          "five imported Backups carrying their storage identity",
          listAll(arkGvr.backups, namespace).pipe(Effect.map((items) => {
            const stamped = items.filter((item) => item.metadata.annotations?.[storageIdentityAnnotation] !== undefined)
            return stamped.length === ours.length ? Option.some(stamped) : Option.none()
          })),
          deadline
        ))
        const markerA = yield* (yield* storeAt(first)).get(locationMarkerKey).pipe(Stream.decodeText(), Stream.mkString)
        const identity = JSON.parse(identified[0]!.metadata.annotations![storageIdentityAnnotation]!)
        assert.deepStrictEqual(identity, { bucket: first.bucket, prefix: first.prefix, marker: JSON.parse(markerA).id })

        yield* repoint(second.prefix)
        const repointed = yield* waitStatus(
          "the location's status to say why nothing is pruned after the re-point",
          (status) => pointedAt(second.prefix)(status) && typeof status["syncMessage"] === "string"
        )
        const reason = String(repointed["syncMessage"])
        assert.include(reason, `kept ${ours.length} Backup(s) whose files are missing from the location`)
        assert.include(reason, `were stored in bucket ${first.bucket} prefix ${first.prefix}`)
        assert.isAbove(logged(server, `not pruning Backups: kept ${ours.length} Backup(s)`, true).length, 0)
        yield* show(waitFor(
          "the unrelated backup imported",
          backupNames.pipe(Effect.map((names) => names.includes("unrelated") ? Option.some(names) : Option.none())),
          deadline
        ))
        // Another full pass over the re-pointed location, and still every Backup is there.
        yield* passesAfter(server, 2)
        assert.deepStrictEqual(yield* backupNames, [...ours, "unrelated"].sort())
        assert.deepStrictEqual(logged(server, "deleted Backup ", true), [])

        yield* repoint(first.prefix)
        yield* waitStatus("the location's status back on the first prefix", pointedAt(first.prefix))
        yield* passesAfter(server, 2)
        assert.deepStrictEqual(yield* backupNames, [...ours, "unrelated"].sort())
        assert.deepStrictEqual(logged(server, "deleted Backup ", true), [])

        // A backup really deleted from where it is stored is still pruned.
        const store = yield* storeAt(first)
        yield* store.delete(backupKeys("nightly-3").metadata)
        yield* show(waitFor(
          "nightly-3 pruned",
          backupNames.pipe(Effect.map((names) => names.includes("nightly-3") ? Option.none() : Option.some(names))),
          deadline
        ))
        assert.deepStrictEqual(yield* backupNames, [...ours.filter((name) => name !== "nightly-3"), "unrelated"].sort())
      }).pipe(Effect.scoped, Effect.provide(liveKube())),
    300_000
  )
})

/** Waits until the server has logged `count` more sync passes of the location than it had so far. */
const passesAfter = (server: ServerProcess, count: number) => {
  const passes = () => logged(server, "not pruning Backups: ", true).length
  const start = passes()
  return waitFor(
    `${count} more sync passes`,
    Effect.sync(() => passes() >= start + count ? Option.some(true) : Option.none()),
    deadline
  )
}
