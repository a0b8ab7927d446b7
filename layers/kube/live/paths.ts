import type { GroupVersionResource, ListOptions, WatchOptions, WriteOptions } from "../../../services/KubeClient.ts"

/** `deployments.apps`, or just `pods` for the core group: how errors and logs name a resource. */
export const groupResource = (gvr: GroupVersionResource): string =>
  gvr.group === "" ? gvr.resource : `${gvr.resource}.${gvr.group}`

export const groupVersionPath = (group: string, version: string): string =>
  group === "" ? `/api/${version}` : `/apis/${group}/${version}`

/** `/apis/<group>/<version>/[namespaces/<ns>/]<resource>[/<name>][/<subresource>]`, or `/api/v1/...` for the core group. */
export const resourcePath = (
  gvr: GroupVersionResource,
  options: {
    readonly namespace?: string | undefined
    readonly name?: string | undefined
    readonly subresource?: string | undefined
  } = {}
): string => {
  let path = groupVersionPath(gvr.group, gvr.version)
  if (options.namespace !== undefined && options.namespace !== "") {
    path += `/namespaces/${encodeURIComponent(options.namespace)}`
  }
  path += `/${gvr.resource}`
  if (options.name !== undefined) path += `/${encodeURIComponent(options.name)}`
  if (options.subresource !== undefined) path += `/${options.subresource}`
  return path
}

/** Default page size, as client-go's pager uses. */
export const DEFAULT_PAGE_SIZE = 500

/**
 * Query of one list page. The first page pins the revision; later pages carry only the continue
 * token, which encodes it (the API server rejects resourceVersion together with continue).
 */
export const listQuery = (options: ListOptions, continueToken?: string): URLSearchParams => {
  const query = new URLSearchParams()
  query.set("limit", String(options.limit ?? DEFAULT_PAGE_SIZE))
  if (options.labelSelector !== undefined && options.labelSelector !== "") {
    query.set("labelSelector", options.labelSelector)
  }
  if (options.fieldSelector !== undefined && options.fieldSelector !== "") {
    query.set("fieldSelector", options.fieldSelector)
  }
  if (continueToken !== undefined) {
    query.set("continue", continueToken)
  } else if (options.resourceVersion !== undefined) {
    query.set("resourceVersion", options.resourceVersion)
    if (options.resourceVersionMatch !== undefined) query.set("resourceVersionMatch", options.resourceVersionMatch)
  }
  return query
}

export const watchQuery = (options: WatchOptions): URLSearchParams => {
  const query = new URLSearchParams({ watch: "true", allowWatchBookmarks: "true" })
  if (options.resourceVersion !== undefined) query.set("resourceVersion", options.resourceVersion)
  if (options.labelSelector !== undefined && options.labelSelector !== "") {
    query.set("labelSelector", options.labelSelector)
  }
  return query
}

/** Ark's name in `metadata.managedFields`: otherwise the API server records its writes as `unknown`. */
export const fieldManager = "ark"

/** Query of a create, update or patch: every write carries Ark's field manager. */
export const writeQuery = (options: WriteOptions | undefined): URLSearchParams => {
  const query = new URLSearchParams({ fieldManager })
  if (options?.dryRun === true) query.set("dryRun", "All")
  return query
}
