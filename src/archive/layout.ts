// Where a backup lives in object storage and where each object lives inside its tarball
// (docs/design.md, "Storage layout"). Pure functions: the writer, the reader, sync, gc and
// download all share them.
import { Either } from "effect"

import { ArchivePathError } from "./errors.ts"

/** The version of the tarball layout, stored at `metadata/version`. */
export const formatVersion = "1.0.0"

export const versionEntryPath = "metadata/version"

export interface BackupKeys {
  /** The backup's folder, with a trailing slash: list or delete everything under it. */
  readonly dir: string
  readonly tarball: string
  readonly logs: string
  readonly resourceList: string
  readonly volumeSnapshots: string
  readonly results: string
  /** `ark-backup.json`: written last, its presence commits the backup. */
  readonly metadata: string
  /** The whole Backup resource, encrypted: an encrypted backup's ark-backup.json holds only a minimal one. */
  readonly resource: string
}

export const backupKeys = (backup: string): BackupKeys => {
  const dir = `backups/${backup}/`
  return {
    dir,
    tarball: `${dir}${backup}.tar.gz`,
    logs: `${dir}${backup}-logs.gz`,
    resourceList: `${dir}${backup}-resource-list.json.gz`,
    volumeSnapshots: `${dir}${backup}-volumesnapshots.json.gz`,
    results: `${dir}${backup}-results.gz`,
    metadata: `${dir}ark-backup.json`,
    resource: `${dir}ark-backup-resource.json.age`
  }
}

export interface RestoreKeys {
  readonly dir: string
  readonly logs: string
  readonly results: string
  /** Every selected item and what happened to it, JSON lines. */
  readonly items: string
}

export const restoreKeys = (restore: string): RestoreKeys => {
  const dir = `restores/${restore}/`
  return {
    dir,
    logs: `${dir}restore-${restore}-logs.gz`,
    results: `${dir}restore-${restore}-results.gz`,
    items: `${dir}restore-${restore}-items.gz`
  }
}

/** `pods`, `deployments.apps`, `widgets.example.com`: the plural, then `.<group>` outside the core group. */
export const groupResource = (resource: { readonly group: string; readonly resource: string }): string =>
  resource.group === "" ? resource.resource : `${resource.resource}.${resource.group}`

/** The inverse of {@link groupResource}: plurals never contain a dot, so the group is everything after the first. */
export const parseGroupResource = (text: string): { readonly group: string; readonly resource: string } => {
  const dot = text.indexOf(".")
  return dot < 0 ? { group: "", resource: text } : { group: text.slice(dot + 1), resource: text.slice(0, dot) }
}

/** The tarball path of one object; `namespace` undefined or "" for cluster-scoped objects. */
export const resourceEntryPath = (groupResourceName: string, namespace: string | undefined, name: string): string =>
  namespace === undefined || namespace === ""
    ? `resources/${groupResourceName}/cluster/${name}.json`
    : `resources/${groupResourceName}/namespaces/${namespace}/${name}.json`

export type EntryLocation =
  | { readonly _tag: "Metadata"; readonly name: string }
  | {
    readonly _tag: "Resource"
    readonly groupResource: string
    /** Undefined for cluster-scoped objects. */
    readonly namespace: string | undefined
    readonly name: string
  }

/**
 * Checks that an entry path stays inside `resources/` or `metadata/` (no absolute path, no `..`,
 * no empty or `.` segment) and returns its segments; a trailing slash (a directory) is allowed.
 */
export const checkEntryPath = (path: string): Either.Either<ReadonlyArray<string>, ArchivePathError> => {
  const fail = (reason: string) => Either.left(new ArchivePathError({ entry: path, reason }))
  if (path === "") return fail("empty path")
  if (path.includes("\u0000")) return fail("NUL in path")
  if (path.includes("\\")) return fail("backslash in path")
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return fail("absolute path")
  const segments = (path.endsWith("/") ? path.slice(0, -1) : path).split("/")
  if (segments.includes("..")) return fail("path traversal (..)")
  if (segments.some((segment) => segment === "" || segment === ".")) return fail("not a normalized path")
  if (segments[0] !== "resources" && segments[0] !== "metadata") return fail("outside resources/ and metadata/")
  return Either.right(segments)
}

const JSON_SUFFIX = ".json"

/** Where a file entry belongs: metadata, or one object of one resource. Anything else is a path error. */
export const parseEntryPath = (path: string): Either.Either<EntryLocation, ArchivePathError> =>
  Either.flatMap(checkEntryPath(path), (segments): Either.Either<EntryLocation, ArchivePathError> => {
    const layout = () =>
      Either.left(
        new ArchivePathError({
          entry: path,
          reason: "expected metadata/<name>, resources/<group-resource>/namespaces/<namespace>/<name>.json " +
            "or resources/<group-resource>/cluster/<name>.json"
        })
      )
    if (path.endsWith("/")) return layout()
    const [root, groupResourceName = "", scope, first = "", second = ""] = segments
    if (root === "metadata") {
      return segments.length === 2
        ? Either.right({ _tag: "Metadata", name: groupResourceName })
        : layout()
    }
    if (
      scope === "cluster" && segments.length === 4 && first.endsWith(JSON_SUFFIX) && first.length > JSON_SUFFIX.length
    ) {
      return Either.right({
        _tag: "Resource",
        groupResource: groupResourceName,
        namespace: undefined,
        name: first.slice(0, -JSON_SUFFIX.length)
      })
    }
    if (
      scope === "namespaces" && segments.length === 5 && second.endsWith(JSON_SUFFIX) &&
      second.length > JSON_SUFFIX.length
    ) {
      return Either.right({
        _tag: "Resource",
        groupResource: groupResourceName,
        namespace: first,
        name: second.slice(0, -JSON_SUFFIX.length)
      })
    }
    return layout()
  })
