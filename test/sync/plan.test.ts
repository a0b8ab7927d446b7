// The sync plan's safety rules, one case each: what is imported, what is pruned, and what blocks pruning.
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"

import type { LocationPhase, StorageIdentity } from "../../src/api/index.ts"
import type { LocationContents } from "../../src/sync/listing.ts"
import type { ClusterBackup } from "../../src/sync/plan.ts"
import { planSync } from "../../src/sync/plan.ts"

/** Where the location points in these cases, unless a case says otherwise. */
const here: StorageIdentity = { bucket: "ark", prefix: "cluster-a", marker: "m-here" }
const elsewhere: StorageIdentity = { bucket: "ark", prefix: "cluster-b", marker: "m-there" }

const backup = (name: string, phase: string | undefined, extra: Partial<ClusterBackup> = {}): ClusterBackup => ({
  name,
  uid: `uid-${name}`,
  phase,
  storageLocation: "default",
  imported: false,
  identity: here,
  ...extra
})

const contents = (committed: ReadonlyArray<string>, extra: Partial<LocationContents> = {}): LocationContents => ({
  committed,
  uncommitted: [],
  foreign: [],
  marker: Option.some(here.marker),
  ...extra
})

const plan = (
  cluster: ReadonlyArray<ClusterBackup>,
  listing: LocationContents,
  locationPhase: LocationPhase | undefined = "Available",
  /** null: the prefix has no marker. */
  current: StorageIdentity | null = here
) => {
  const result = planSync({
    location: "default",
    locationPhase,
    cluster,
    contents: listing,
    current: current ?? undefined
  })
  return { ...result, prunes: result.prunes.map((b) => b.name), adoptions: result.adoptions.map((b) => b.name) }
}

describe("planSync", () => {
  it("imports committed backups the cluster lacks, and nothing uncommitted", () => {
    const result = plan([backup("here", "Completed")], contents(["here", "there"], { uncommitted: ["half"] }))
    assert.deepStrictEqual(result.imports, ["there"])
    assert.deepStrictEqual(result.prunes, [])
  })

  it("does not import over a Backup of the same name, whatever its location or readability", () => {
    const result = plan(
      [
        backup("taken", "New", { storageLocation: "elsewhere" }),
        backup("garbled", undefined, { storageLocation: undefined })
      ],
      contents(["taken", "garbled"])
    )
    assert.deepStrictEqual(result.imports, [])
  })

  it("prunes only finished Backups of this location whose files are gone", () => {
    const cluster = [
      backup("kept", "Completed"),
      backup("gone-completed", "Completed"),
      backup("gone-partial", "PartiallyFailed"),
      backup("gone-new", undefined),
      backup("gone-new-phase", "New"),
      backup("gone-running", "InProgress"),
      backup("gone-failed", "Failed"),
      backup("gone-invalid", "FailedValidation"),
      backup("gone-deleting", "Deleting"),
      backup("gone-elsewhere", "Completed", { storageLocation: "other" }),
      backup("gone-unreadable", undefined, { storageLocation: undefined }),
      backup("gone-import", undefined, { imported: true })
    ]
    const result = plan(cluster, contents(["kept"]))
    assert.deepStrictEqual(result.prunes, ["gone-completed", "gone-partial", "gone-import"])
    assert.isUndefined(result.pruneBlocked)
  })

  it("finishes imports whose status was never written, when their file is still there", () => {
    const result = plan(
      [backup("half-imported", undefined, { imported: true }), backup("other", undefined)],
      contents(["half-imported", "other"])
    )
    assert.deepStrictEqual(result.finishes, ["half-imported"])
    assert.deepStrictEqual(result.prunes, [])
  })

  it("prunes nothing on an Unavailable location, but still imports", () => {
    const result = plan(
      [backup("kept", "Completed"), backup("gone", "Completed")],
      contents(["kept", "new"]),
      "Unavailable"
    )
    assert.deepStrictEqual(result.prunes, [])
    assert.deepStrictEqual(result.imports, ["new"])
    assert.include(result.pruneBlocked, "Unavailable")
  })

  it("prunes nothing when the prefix holds data that is not Ark's, but still imports", () => {
    const result = plan(
      [backup("kept", "Completed"), backup("gone", "Completed")],
      contents(["kept", "new"], { foreign: ["photos/", "README.txt"] })
    )
    assert.deepStrictEqual(result.prunes, [])
    assert.deepStrictEqual(result.imports, ["new"])
    assert.include(result.pruneBlocked, "photos/, README.txt")
  })

  it("prunes nothing when the location holds no backups while the cluster has some stored there", () => {
    const result = plan(
      [
        backup("gone", "Completed"),
        backup("also-gone", "PartiallyFailed"),
        backup("gone-import", undefined, { imported: true })
      ],
      contents([], { uncommitted: ["half"] })
    )
    assert.deepStrictEqual(result.prunes, [])
    assert.include(result.pruneBlocked, "holds no backups while 3 Backup(s)")
  })

  it("reports no block when there is nothing to prune", () => {
    const result = plan([backup("running", "InProgress")], contents([], { foreign: ["photos/"] }), "Unavailable")
    assert.deepStrictEqual(result.prunes, [])
    assert.isUndefined(result.pruneBlocked)
  })

  it("prunes only Backups recorded as stored exactly where the location points, marker included", () => {
    const cluster = [
      backup("gone-here", "Completed"),
      backup("gone-elsewhere", "Completed", { identity: elsewhere }),
      backup("gone-other-marker", "Completed", { identity: { ...here, marker: "m-old" } }),
      backup("gone-legacy", "Completed", { identity: undefined }),
      backup("present", "Completed")
    ]
    const result = plan(cluster, contents(["present"]))
    assert.deepStrictEqual(result.prunes, ["gone-here"])
    assert.strictEqual(
      result.pruneBlocked,
      "kept 3 Backup(s) whose files are missing from the location: 1 predate storage identities and were never seen in bucket ark prefix cluster-a (marker m-here), 1 were stored in bucket ark prefix cluster-b (marker m-there), 1 were stored in bucket ark prefix cluster-a (marker m-old); the location points at bucket ark prefix cluster-a (marker m-here) (re-pointed?)"
    )
  })

  it("re-pointed at a prefix holding one unrelated backup: nothing pruned, the unrelated one imported", () => {
    const cluster = Array.from({ length: 20 }, (_, i) => backup(`nightly-${i}`, "Completed"))
    const result = plan(
      cluster,
      contents(["unrelated"], { marker: Option.some(elsewhere.marker) }),
      "Available",
      elsewhere
    )
    assert.deepStrictEqual(result.prunes, [])
    assert.deepStrictEqual(result.imports, ["unrelated"])
    assert.include(result.pruneBlocked, "kept 20 Backup(s)")
    assert.include(result.pruneBlocked, "20 were stored in bucket ark prefix cluster-a (marker m-here)")
  })

  it("a prefix without a marker prunes nothing and adopts nothing", () => {
    const result = plan(
      [backup("gone", "Completed"), backup("legacy", "Completed", { identity: undefined })],
      contents(["legacy"], { marker: Option.none() }),
      "Available",
      null
    )
    assert.deepStrictEqual(result.prunes, [])
    assert.deepStrictEqual(result.adoptions, [])
    assert.include(result.pruneBlocked, "has no ark-location.json marker")
  })

  it("adopts the current identity for finished Backups without one whose ark-backup.json is here", () => {
    const result = plan(
      [
        backup("legacy-here", "Completed", { identity: undefined }),
        backup("legacy-gone", "Completed", { identity: undefined }),
        backup("legacy-running", "InProgress", { identity: undefined }),
        backup("stamped", "Completed")
      ],
      contents(["legacy-here", "legacy-running", "stamped"])
    )
    assert.deepStrictEqual(result.adoptions, ["legacy-here"])
    assert.deepStrictEqual(result.prunes, [])
  })
})
