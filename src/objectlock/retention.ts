// S3 Object Lock on a backup's files (docs/design.md, "Immutability"). Every file under the
// backup's directory is written with one retention: the backup's start plus its TTL, so it ends at
// or before status.expiration (completion plus TTL) and GC never meets a retained file. Deletion
// asks storage, not the Backup resource, whether a file is still retained.
import { Clock, Duration, Effect, Option } from "effect"

import type { ObjectStore, Retention } from "../../services/ObjectStore.ts"
import type { ObjectLockMode } from "../api/index.ts"

/** The retention of a backup's files; none without Object Lock or without a TTL. */
export const backupRetention = (
  objectLock: { readonly mode: ObjectLockMode } | undefined,
  startMillis: number,
  ttl: Duration.Duration
): Option.Option<Retention> =>
  objectLock === undefined || Duration.isZero(ttl)
    ? Option.none()
    // Whole seconds, as timestamps are recorded: never later than the recorded expiration.
    : Option.some({
      mode: objectLock.mode,
      retainUntil: new Date(Math.floor((startMillis + Duration.toMillis(ttl)) / 1000) * 1000)
    })

/** A store that writes every file under `dir` with `retention`. */
export const retainingStore = (store: ObjectStore.Shape, dir: string, retention: Retention): ObjectStore.Shape => ({
  ...store,
  put: (key, body, options) => store.put(key, body, key.startsWith(dir) ? { ...options, retention } : options)
})

/** Files still under retention, and the latest retention among them. */
export interface HeldFiles {
  readonly files: number
  readonly latest: Retention
}

/** The files under `dir` whose retention has not passed; none when every file may be deleted. */
export const heldFiles = Effect.fn("ObjectLock.heldFiles")(function*(store: ObjectStore.Shape, dir: string) {
  const listing = yield* store.list(dir)
  const retentions = yield* Effect.forEach(
    listing.objects,
    (object) =>
      store.retention(object.key).pipe(
        // Deleted since the listing: nothing to hold.
        Effect.catchTag("ObjectNotFound", () => Effect.succeed(Option.none()))
      ),
    { concurrency: 8 }
  )
  const now = yield* Clock.currentTimeMillis
  const held = retentions.flatMap((retention) => Option.toArray(retention))
    .filter((retention) => retention.retainUntil.getTime() > now)
  const [first, ...rest] = held
  if (first === undefined) return Option.none<HeldFiles>()
  const latest = rest.reduce((a, b) => b.retainUntil > a.retainUntil ? b : a, first)
  return Option.some<HeldFiles>({ files: held.length, latest })
})

export const describeRetention = (retention: Retention): string =>
  `retained until ${retention.retainUntil.toISOString()} (S3 Object Lock, mode ${retention.mode})`

/** Why a backup cannot be deleted yet; a changed TTL or expiration does not move the date. */
export const heldReason = (backupName: string, held: HeldFiles): string =>
  `backup "${backupName}" is kept: ${held.files} of its files are ${describeRetention(held.latest)}; ` +
  "it can be deleted from then on, and a shorter TTL or expiration cannot shorten the retention"
