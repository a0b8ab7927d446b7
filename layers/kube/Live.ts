import * as NodeStream from "@effect/platform-node/NodeStream"
import type { KubeConfig } from "@kubernetes/client-node"
import type { Schedule } from "effect"
import { Duration, Effect, FiberRef, Layer, Option, Stream } from "effect"

import type {
  ApiResource,
  DeleteOptions,
  Discovery,
  GroupVersionResource,
  KubeError,
  KubeObject,
  ListOptions,
  ListPage,
  Patch,
  WatchEvent,
  WatchOptions,
  WriteOptions
} from "../../services/KubeClient.ts"
import { KubeClient, KubeInvalid, KubeUnavailable, throttleObserver } from "../../services/KubeClient.ts"
import type { ClusterAccess } from "./live/access.ts"
import { fromKubeConfig } from "./live/access.ts"
import type { RequestContext } from "./live/errors.ts"
import { statusError, transportError } from "./live/errors.ts"
import type { KubeRequest, Transport } from "./live/http.ts"
import { makeTransport, parseBody, responseRetryAfter } from "./live/http.ts"
import type { KubeConfigSource } from "./live/kubeconfig.ts"
import { KubeConfigError, loadClusterAccess } from "./live/kubeconfig.ts"
import { groupResource, listQuery, resourcePath, watchQuery, writeQuery } from "./live/paths.ts"
import type { RateLimit } from "./live/rateLimit.ts"
import { makeRateLimiter } from "./live/rateLimit.ts"
import { readRetry, writeRetry } from "./live/retry.ts"
import { isKubeObject, parseWatchLine } from "./live/watch.ts"

export { KubeConfigError, loadKubeConfig } from "./live/kubeconfig.ts"

export interface KubeLiveConfig extends KubeConfigSource {
  /** How long a non-watch request may go without a byte from the API server. Default 60s. */
  readonly requestTimeout?: Duration.DurationInput
  /** Retries of a read on throttling or server errors. Default 5. */
  readonly readRetries?: number
  /** Client-side request rate limit (`--client-qps`, `--client-burst`). Default none. */
  readonly rateLimit?: RateLimit
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const records = (value: unknown): ReadonlyArray<Record<string, unknown>> =>
  Array.isArray(value) ? value.filter(isRecord) : []

const strings = (value: unknown): ReadonlyArray<string> =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []

const str = (value: unknown): string | undefined => typeof value === "string" ? value : undefined

const splitGroupVersion = (groupVersion: string): { readonly group: string; readonly version: string } => {
  const slash = groupVersion.indexOf("/")
  return slash < 0
    ? { group: "", version: groupVersion }
    : { group: groupVersion.slice(0, slash), version: groupVersion.slice(slash + 1) }
}

/** The resources of one APIResourceList, subresources folded into their parent. */
export const parseResourceList = (groupVersion: string, list: unknown): ReadonlyArray<ApiResource> => {
  const { group, version } = splitGroupVersion(groupVersion)
  const entries = records(isRecord(list) ? list["resources"] : undefined)
  const names = new Set(entries.map((entry) => str(entry["name"]) ?? ""))
  return entries.flatMap((entry): Array<ApiResource> => {
    const name = str(entry["name"])
    const kind = str(entry["kind"])
    if (name === undefined || kind === undefined || name.includes("/")) return []
    return [{
      group: str(entry["group"]) ?? group,
      version: str(entry["version"]) ?? version,
      resource: name,
      kind,
      namespaced: entry["namespaced"] === true,
      verbs: strings(entry["verbs"]),
      shortNames: strings(entry["shortNames"]),
      singularName: str(entry["singularName"]) || kind.toLowerCase(),
      statusSubresource: names.has(`${name}/status`)
    }]
  })
}

/** The preferred group version of every group in an APIGroupList. */
export const preferredGroupVersions = (groupList: unknown): ReadonlyArray<string> =>
  records(isRecord(groupList) ? groupList["groups"] : undefined).flatMap((group) => {
    const preferred = isRecord(group["preferredVersion"]) ? str(group["preferredVersion"]["groupVersion"]) : undefined
    const first = records(group["versions"])[0]
    const groupVersion = preferred ?? (first === undefined ? undefined : str(first["groupVersion"]))
    return groupVersion === undefined ? [] : [groupVersion]
  })

/**
 * One page of a list: items get the apiVersion and kind the API server leaves out of list items,
 * so each stands alone as an object. They are completed in place, not copied: `list` is a response
 * just parsed that nothing else holds, and a copy per object was a backup's garbage to collect.
 */
export const parseListPage = (
  list: unknown
): { readonly page: ListPage; readonly continueToken: string | undefined } => {
  const body = isRecord(list) ? list : {}
  const metadata = isRecord(body["metadata"]) ? body["metadata"] : {}
  const apiVersion = str(body["apiVersion"]) ?? ""
  const listKind = str(body["kind"]) ?? ""
  const kind = listKind.endsWith("List") ? listKind.slice(0, -"List".length) : listKind
  const items: Array<KubeObject> = []
  for (const item of Array.isArray(body["items"]) ? body["items"] : []) {
    if (!isKubeObject(item)) continue
    const completed = item as { apiVersion: unknown; kind: unknown }
    if (typeof item.apiVersion !== "string" || item.apiVersion === "") completed.apiVersion = apiVersion
    if (typeof item.kind !== "string" || item.kind === "") completed.kind = kind
    items.push(item)
  }
  const continueToken = str(metadata["continue"])
  return {
    page: { items, resourceVersion: str(metadata["resourceVersion"]) ?? "" },
    continueToken: continueToken === undefined || continueToken === "" ? undefined : continueToken
  }
}

const asObject = (context: RequestContext) => (body: unknown): Effect.Effect<KubeObject, KubeError> =>
  isKubeObject(body)
    ? Effect.succeed(body)
    : Effect.fail(
      new KubeUnavailable({ resource: context.resource, message: "the API server answered without an object" })
    )

/** Each 429 goes to the sending fiber's throttleObserver before it is retried. */
const reportThrottled = (error: KubeError): Effect.Effect<void> =>
  error._tag === "KubeUnavailable" && error.status === 429
    ? Effect.flatMap(FiberRef.get(throttleObserver), (observe) => observe(error.retryAfter))
    : Effect.void

/**
 * `request` under the retry `policy`, each 429 reported first. The policy's driver is built only
 * once a request failed: Effect.retry builds it up front, a cost every successful request paid.
 */
const retried = <A>(
  request: Effect.Effect<A, KubeError>,
  policy: Schedule.Schedule<unknown, KubeError>
): Effect.Effect<A, KubeError> => {
  const attempt = Effect.tapError(request, reportThrottled)
  return Effect.catchAll(attempt, (first) => {
    let failedOnce = false
    const again = Effect.suspend(() => {
      if (failedOnce) return attempt
      failedOnce = true
      return Effect.fail(first)
    })
    return Effect.retry(again, policy)
  })
}

/** The KubeClient over a client-node KubeConfig the caller already loaded. */
export const makeFromKubeConfig = (
  kc: KubeConfig,
  config: KubeLiveConfig = {}
): Effect.Effect<KubeClient.Shape, KubeConfigError> => {
  const cluster = kc.getCurrentCluster()
  return cluster === null
    ? Effect.fail(new KubeConfigError({ message: "the kubeconfig has no current cluster" }))
    : makeFromAccess(fromKubeConfig(kc, cluster.server), config)
}

/** The KubeClient over the cluster's address and credentials. */
export const makeFromAccess = (
  access: ClusterAccess,
  config: KubeLiveConfig = {}
): Effect.Effect<KubeClient.Shape> =>
  Effect.gen(function*() {
    const throttle = config.rateLimit === undefined ? Effect.void : yield* makeRateLimiter(config.rateLimit)
    const transport: Transport = makeTransport(
      access,
      Duration.decode(config.requestTimeout ?? "60 seconds"),
      throttle
    )
    const retries = config.readRetries ?? 5

    const readPolicy = readRetry(retries)
    const writePolicy = writeRetry(retries)

    const read = (request: Omit<KubeRequest, "method">, context: RequestContext, readRetries = retries) =>
      retried(
        transport.json({ ...request, method: "GET" }, context),
        readRetries === retries ? readPolicy : readRetry(readRetries)
      )

    const write = (request: KubeRequest, context: RequestContext) =>
      retried(transport.json(request, context), writePolicy).pipe(Effect.flatMap(asObject(context)))

    const discover: Effect.Effect<Discovery, KubeError> = Effect.gen(function*() {
      // Independent round trips, so at once: discovery is part of every backup's fixed cost.
      const [core, groups] = yield* Effect.all([
        read({ path: "/api/v1" }, { resource: "discovery", name: "v1" }),
        read({ path: "/apis" }, { resource: "discovery", name: "apis" })
      ], { concurrency: 2 })
      // One unavailable aggregated API (metrics.k8s.io, say) must not sink discovery.
      const perGroup = yield* Effect.forEach(
        preferredGroupVersions(groups),
        (groupVersion) =>
          read({ path: `/apis/${groupVersion}` }, { resource: "discovery", name: groupVersion }, 1).pipe(
            Effect.map((list) => parseResourceList(groupVersion, list)),
            Effect.either,
            Effect.map((result) => [groupVersion, result] as const)
          ),
        { concurrency: 8 }
      )
      const resources = [...parseResourceList("v1", core)]
      const failedGroups: Array<{ readonly groupVersion: string; readonly message: string }> = []
      for (const [groupVersion, result] of perGroup) {
        if (result._tag === "Right") resources.push(...result.right)
        else failedGroups.push({ groupVersion, message: result.left.message })
      }
      return { resources, failedGroups }
    }).pipe(Effect.withSpan("KubeLive.discover"))

    const listPages = (gvr: GroupVersionResource, options: ListOptions = {}): Stream.Stream<ListPage, KubeError> => {
      const context = { resource: groupResource(gvr) }
      const path = resourcePath(gvr, { namespace: options.namespace })
      return Stream.paginateEffect(Option.none<string>(), (continueToken) =>
        read({ path, query: listQuery(options, Option.getOrUndefined(continueToken)) }, context).pipe(
          Effect.map((body) => {
            const { continueToken: next, page } = parseListPage(body)
            return [page, Option.fromNullable(next).pipe(Option.map(Option.some))] as const
          })
        ))
    }

    const get = (gvr: GroupVersionResource, name: string, namespace?: string) => {
      const context = { resource: groupResource(gvr), name }
      return read({ path: resourcePath(gvr, { namespace, name }) }, context).pipe(Effect.flatMap(asObject(context)))
    }

    const objectName = (gvr: GroupVersionResource, object: KubeObject): Effect.Effect<string, KubeInvalid> =>
      object.metadata.name === undefined || object.metadata.name === ""
        ? Effect.fail(new KubeInvalid({ resource: groupResource(gvr), message: "metadata.name is required" }))
        : Effect.succeed(object.metadata.name)

    const create = (gvr: GroupVersionResource, object: KubeObject, options?: WriteOptions) =>
      write(
        {
          method: "POST",
          path: resourcePath(gvr, { namespace: object.metadata.namespace }),
          query: writeQuery(options),
          body: object
        },
        { resource: groupResource(gvr), name: object.metadata.name ?? object.metadata.generateName }
      )

    const replace =
      (subresource: "status" | undefined) => (gvr: GroupVersionResource, object: KubeObject, options?: WriteOptions) =>
        objectName(gvr, object).pipe(
          Effect.flatMap((name) =>
            write(
              {
                method: "PUT",
                path: resourcePath(gvr, { namespace: object.metadata.namespace, name, subresource }),
                query: writeQuery(options),
                body: object
              },
              { resource: groupResource(gvr), name }
            )
          )
        )

    const patchAt =
      (subresource: "status" | undefined) =>
      (gvr: GroupVersionResource, name: string, patch: Patch, namespace?: string, options?: WriteOptions) =>
        write(
          {
            method: "PATCH",
            path: resourcePath(gvr, { namespace, name, subresource }),
            query: writeQuery(options),
            body: patch.type === "merge" ? patch.body : patch.ops,
            contentType: patch.type === "merge" ? "application/merge-patch+json" : "application/json-patch+json"
          },
          { resource: groupResource(gvr), name }
        )

    const remove = (gvr: GroupVersionResource, name: string, namespace?: string, options?: DeleteOptions) =>
      transport.json(
        {
          method: "DELETE",
          path: resourcePath(gvr, { namespace, name }),
          // A DeleteOptions body overrides the query, so dryRun must be in the body too.
          body: {
            apiVersion: "v1",
            kind: "DeleteOptions",
            ...(options?.propagationPolicy === undefined ? {} : { propagationPolicy: options.propagationPolicy }),
            ...(options?.dryRun === true ? { dryRun: ["All"] } : {})
          }
        },
        { resource: groupResource(gvr), name }
      ).pipe(Effect.retry(writePolicy), Effect.asVoid)

    const watch = (gvr: GroupVersionResource, options: WatchOptions = {}): Stream.Stream<WatchEvent, KubeError> => {
      const context = { resource: groupResource(gvr) }
      const request: KubeRequest = {
        method: "GET",
        path: resourcePath(gvr, { namespace: options.namespace }),
        query: watchQuery(options)
      }
      // The request lives in the stream's scope: interrupting the consumer aborts it.
      return Stream.unwrapScoped(
        Effect.gen(function*() {
          const response = yield* transport.open(request, context)
          const status = response.statusCode ?? 0
          if (status !== 200) {
            const text = yield* NodeStream.toString(() =>
              response, {
              onFailure: (cause) =>
                transportError(context, "reading a failed watch response", cause)
            })
            return yield* Effect.fail(statusError(status, parseBody(text), context, responseRetryAfter(response)))
          }
          return NodeStream.fromReadable<KubeError>(() =>
            response, (cause) =>
            transportError(context, "watch stream", cause))
        }).pipe(Effect.retry(readRetry(retries)))
      ).pipe(
        Stream.decodeText(),
        Stream.splitLines,
        Stream.mapEffect((line) => {
          const parsed = parseWatchLine(line, context)
          switch (parsed._tag) {
            case "Event":
              return Effect.succeed(Option.some(parsed.event))
            case "Skip":
              return Effect.succeed(Option.none())
            case "Error":
              return Effect.fail(parsed.error)
          }
        }),
        Stream.filterMap((event) =>
          event
        )
      )
    }

    return {
      discover,
      listPages,
      get,
      create,
      update: replace(undefined),
      updateStatus: (gvr, object) => replace("status")(gvr, object),
      patch: patchAt(undefined),
      patchStatus: (gvr, name, patch, namespace) => patchAt("status")(gvr, name, patch, namespace),
      delete: remove,
      watch
    } satisfies KubeClient.Shape
  })

export const make = (config: KubeLiveConfig = {}): Effect.Effect<KubeClient.Shape, KubeConfigError> =>
  loadClusterAccess(config).pipe(Effect.flatMap((access) => makeFromAccess(access, config)))

export const layer = (config: KubeLiveConfig = {}): Layer.Layer<KubeClient, KubeConfigError> =>
  Layer.effect(KubeClient, make(config))

/**
 * A KubeClient that reads the kubeconfig at its first request, so a command checks its own flags
 * before a missing or broken kubeconfig is reported (as that request's error). The server uses
 * `layer`, which fails at start.
 */
export const layerOnFirstUse = (config: KubeLiveConfig = {}): Layer.Layer<KubeClient> =>
  Layer.effect(
    KubeClient,
    Effect.map(
      Effect.cached(
        make(config).pipe(
          Effect.mapError((error) => new KubeUnavailable({ resource: "kubeconfig", message: error.message }))
        )
      ),
      (client): KubeClient.Shape => {
        const call = <A>(f: (kube: KubeClient.Shape) => Effect.Effect<A, KubeError>) => Effect.flatMap(client, f)
        const stream = <A>(f: (kube: KubeClient.Shape) => Stream.Stream<A, KubeError>) =>
          Stream.unwrap(Effect.map(client, f))
        return {
          discover: call((kube) => kube.discover),
          listPages: (...args) => stream((kube) => kube.listPages(...args)),
          get: (...args) => call((kube) => kube.get(...args)),
          create: (...args) => call((kube) => kube.create(...args)),
          update: (...args) => call((kube) => kube.update(...args)),
          updateStatus: (...args) => call((kube) => kube.updateStatus(...args)),
          patch: (...args) => call((kube) => kube.patch(...args)),
          patchStatus: (...args) => call((kube) => kube.patchStatus(...args)),
          delete: (...args) => call((kube) => kube.delete(...args)),
          watch: (...args) => stream((kube) => kube.watch(...args))
        }
      }
    )
  )
