// The sync plan's safety rules, one case each: what is imported, what is pruned, and what blocks pruning.
import { assert, describe, it } from "@effect/vitest"

import type { LocationPhase } from "../../src/api/index.ts"
import type { LocationContents } from "../../src/sync/listing.ts"
import type { ClusterBackup } from "../../src/sync/plan.ts"
import { planSync } from "../../src/sync/plan.ts"

const backup = (name: string, phase: string | undefined, extra: Partial<ClusterBackup> = {}): ClusterBackup => ({
  name,
  uid: `uid-${name}`,
  phase,
  storageLocation: "default",
  imported: false,
  ...extra
})

const contents = (committed: ReadonlyArray<string>, extra: Partial<LocationContents> = {}): LocationContents => ({
  committed,
  uncommitted: [],
  foreign: [],
  ...extra
})

const plan = (
  cluster: ReadonlyArray<ClusterBackup>,
  listing: LocationContents,
  locationPhase: LocationPhase | undefined = "Available"
) => {
  const result = planSync({ location: "default", locationPhase, cluster, contents: listing })
  return { ...result, prunes: result.prunes.map((b) => b.name) }
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
})
