// Reads a kubeconfig (or the pod's service account) into ClusterAccess without client-node. It serves
// what servers and CI use: client certificates, bearer tokens and token files, basic auth, and the
// in-cluster account. A context that needs more (an exec plugin, an auth provider, a proxy) is handed
// to client-node's KubeConfig, imported only then.
import { existsSync, readFileSync } from "node:fs"
import type * as https from "node:https"
import { homedir } from "node:os"
import { delimiter, dirname, isAbsolute, join } from "node:path"

import { Data, Effect } from "effect"
import { load } from "js-yaml"

import type { ClusterAccess } from "./access.ts"
import { fromKubeConfig } from "./access.ts"

export class KubeConfigError extends Data.TaggedError("KubeConfigError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

export interface KubeConfigSource {
  /** Unset: $KUBECONFIG, ~/.kube/config, then the in-cluster service account. */
  readonly kubeconfigPath?: string
  readonly context?: string
  /** Use the pod's service account even when a kubeconfig is around. */
  readonly inCluster?: boolean
}

/** Where a pod's service account is mounted; tests point it elsewhere. */
export const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

type Entry = Record<string, unknown>

const isEntry = (value: unknown): value is Entry => typeof value === "object" && value !== null && !Array.isArray(value)
const str = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined)

interface Document {
  readonly file: string
  readonly body: Entry
}

/** kubectl's merge of several files: the first file that names an entry, or sets current-context, wins. */
const named = (documents: ReadonlyArray<Document>, list: string, name: string) => {
  for (const { body, file } of documents) {
    const entries = Array.isArray(body[list]) ? body[list] : []
    for (const entry of entries) {
      if (isEntry(entry) && entry["name"] === name && isEntry(entry[list.slice(0, -1)])) {
        return { file, fields: entry[list.slice(0, -1)] as Entry }
      }
    }
  }
  return undefined
}

/** Bytes from `<field>-data` (base64) or from the file `<field>` names, relative to its kubeconfig. */
const material = (fields: Entry, field: string, file: string): (() => Buffer) | undefined => {
  const data = str(fields[`${field}-data`])
  if (data !== undefined) {
    const bytes = Buffer.from(data, "base64")
    return () => bytes
  }
  const path = str(fields[field])
  if (path === undefined) return undefined
  const resolved = isAbsolute(path) ? path : join(dirname(file), path)
  // Read on each refresh: rotated certificates and tokens are picked up.
  return () => readFileSync(resolved)
}

const fail = (message: string, cause?: unknown) => new KubeConfigError({ message, cause })

const accessOf = (
  server: string,
  tls: { readonly ca?: () => Buffer; readonly cert?: () => Buffer; readonly key?: () => Buffer },
  cluster: Entry,
  authorization: (() => string) | undefined
): ClusterAccess => ({
  server,
  proxied: false,
  credentials: async () => {
    const options: https.RequestOptions = {
      headers: authorization === undefined ? {} : { Authorization: authorization() }
    }
    if (tls.ca !== undefined) options.ca = tls.ca()
    if (tls.cert !== undefined) options.cert = tls.cert()
    if (tls.key !== undefined) options.key = tls.key()
    if (cluster["insecure-skip-tls-verify"] === true) options.rejectUnauthorized = false
    const servername = str(cluster["tls-server-name"])
    if (servername !== undefined) options.servername = servername
    return options
  }
})

/** The pod's service account: the token file is read again on refresh, as the kubelet rotates it. */
export const inClusterAccess = (dir = serviceAccountDir): ClusterAccess => {
  const host = process.env["KUBERNETES_SERVICE_HOST"]
  const port = process.env["KUBERNETES_SERVICE_PORT"]
  if (host === undefined || port === undefined) {
    throw fail("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset")
  }
  const token = join(dir, "token")
  return accessOf(
    `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    { ca: () => readFileSync(join(dir, "ca.crt")) },
    {},
    () => `Bearer ${readFileSync(token, "utf8").trim()}`
  )
}

const kubeconfigFiles = (source: KubeConfigSource): ReadonlyArray<string> => {
  if (source.kubeconfigPath !== undefined) return [source.kubeconfigPath]
  const fromEnv = (process.env["KUBECONFIG"] ?? "").split(delimiter).filter((file) => file !== "")
  // kubectl skips the files of $KUBECONFIG that do not exist.
  if (fromEnv.length > 0) return fromEnv.filter((file) => existsSync(file))
  const home = join(homedir(), ".kube", "config")
  return existsSync(home) ? [home] : []
}

type Loaded = { readonly _tag: "Access"; readonly access: ClusterAccess } | { readonly _tag: "NeedsClientNode" }

const fromFiles = (files: ReadonlyArray<string>, contextName: string | undefined): Loaded => {
  const documents = files.map((file): Document => {
    const body = load(readFileSync(file, "utf8"))
    return { file, body: isEntry(body) ? body : {} }
  })
  const name = contextName ?? documents.map(({ body }) => str(body["current-context"])).find((n) => n !== undefined)
  if (name === undefined) throw fail(`no current-context in ${files.join(", ")}`)
  const context = named(documents, "contexts", name)
  if (context === undefined) throw fail(`context ${name} not found in the kubeconfig`)
  const clusterName = str(context.fields["cluster"]) ?? ""
  const cluster = named(documents, "clusters", clusterName)
  if (cluster === undefined) throw fail(`cluster ${clusterName} of context ${name} not found in the kubeconfig`)
  const userName = str(context.fields["user"])
  const user = userName === undefined ? undefined : named(documents, "users", userName)
  if (userName !== undefined && user === undefined) throw fail(`user ${userName} of context ${name} not found`)
  const userFields = user?.fields ?? {}
  if (
    userFields["exec"] !== undefined || userFields["auth-provider"] !== undefined ||
    cluster.fields["proxy-url"] !== undefined
  ) return { _tag: "NeedsClientNode" }
  const server = str(cluster.fields["server"])
  if (server === undefined) throw fail(`cluster ${clusterName} has no server`)
  const userFile = user?.file ?? cluster.file
  const token = str(userFields["token"])
  const tokenFile = material(userFields, "tokenFile", userFile)
  const username = str(userFields["username"])
  const basic = () => `Basic ${Buffer.from(`${username}:${str(userFields["password"]) ?? ""}`).toString("base64")}`
  const authorization = token !== undefined
    ? () => `Bearer ${token}`
    : tokenFile !== undefined
    ? () => `Bearer ${tokenFile().toString("utf8").trim()}`
    : username !== undefined
    ? basic
    : undefined
  const tls = {
    ca: material(cluster.fields, "certificate-authority", cluster.file),
    cert: material(userFields, "client-certificate", userFile),
    key: material(userFields, "client-key", userFile)
  }
  return {
    _tag: "Access",
    access: accessOf(
      server,
      Object.fromEntries(Object.entries(tls).filter(([, read]) => read !== undefined)),
      cluster.fields,
      authorization
    )
  }
}

const describe = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause))

/** Loads the cluster's address and credentials as kubectl would find them. */
export const loadClusterAccess = (source: KubeConfigSource): Effect.Effect<ClusterAccess, KubeConfigError> =>
  Effect.suspend(() => {
    if (source.inCluster === true) return Effect.try({ try: () => inClusterAccess(), catch: wrap })
    const files = kubeconfigFiles(source)
    if (files.length === 0) {
      return Effect.try({ try: () => inClusterAccess(), catch: () => fail(noKubeconfig) })
    }
    return Effect.try({ try: () => fromFiles(files, source.context), catch: wrap }).pipe(
      Effect.flatMap((loaded) => loaded._tag === "Access" ? Effect.succeed(loaded.access) : viaClientNode(source))
    )
  })

const noKubeconfig = "no kubeconfig found: pass --kubeconfig FILE or set $KUBECONFIG (or run in a cluster)"

const wrap = (cause: unknown) =>
  cause instanceof KubeConfigError ? cause : fail(`cannot load kubeconfig: ${describe(cause)}`, cause)

/** client-node's own loader, for what Ark's does not serve; also the hooks' websocket exec needs it. */
export const loadKubeConfig = (source: KubeConfigSource) =>
  Effect.tryPromise({
    try: async () => {
      const { KubeConfig } = await import("@kubernetes/client-node")
      const kc = new KubeConfig()
      if (source.inCluster === true) kc.loadFromCluster()
      else if (source.kubeconfigPath !== undefined) kc.loadFromFile(source.kubeconfigPath)
      else kc.loadFromDefault()
      if (source.context !== undefined) {
        if (kc.getContextObject(source.context) === null) {
          throw new Error(`context ${source.context} not found in the kubeconfig`)
        }
        kc.setCurrentContext(source.context)
      }
      return kc
    },
    catch: wrap
  })

const viaClientNode = (source: KubeConfigSource): Effect.Effect<ClusterAccess, KubeConfigError> =>
  loadKubeConfig(source).pipe(
    Effect.flatMap((kc) => {
      const cluster = kc.getCurrentCluster()
      return cluster === null
        ? Effect.fail(fail("the kubeconfig has no current cluster"))
        : Effect.succeed(fromKubeConfig(kc, cluster.server))
    })
  )
