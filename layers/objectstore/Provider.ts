// The live ObjectStoreProvider: `aws` locations become S3 stores (any S3-compatible endpoint),
// `filesystem` locations become directory stores. Credentials come from a Secret in the server
// namespace, else the AWS SDK's default chain.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, Layer, Option, Redacted, Scope } from "effect"

import type { KubeError, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { ObjectStore } from "../../services/ObjectStore.ts"
import type { StorageLocation } from "../../services/ObjectStoreProvider.ts"
import { LocationError, ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import * as FilesystemObjectStore from "./Filesystem.ts"
import type * as S3ObjectStore from "./S3.ts"

/** Velero's convention: used when a location names no credential, if it exists. */
export const defaultCredential = { name: "cloud-credentials", key: "cloud" } as const

export interface AwsCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: Redacted.Redacted<string>
  readonly sessionToken?: Redacted.Redacted<string>
}

/**
 * Reads one profile of an AWS shared-credentials file (`[default]\naws_access_key_id = …`).
 * None when the profile or either key is missing.
 */
export const parseSharedCredentials = (text: string, profile = "default"): Option.Option<AwsCredentials> => {
  const values = new Map<string, string>()
  let current: string | undefined
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue
    const section = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line)
    if (section !== null) {
      current = section[1]
      continue
    }
    const eq = line.indexOf("=")
    if (current !== profile || eq < 0) continue
    values.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim())
  }
  const accessKeyId = values.get("aws_access_key_id")
  const secretAccessKey = values.get("aws_secret_access_key")
  if (accessKeyId === undefined || accessKeyId === "" || secretAccessKey === undefined || secretAccessKey === "") {
    return Option.none()
  }
  const sessionToken = values.get("aws_session_token")
  return Option.some({
    accessKeyId,
    secretAccessKey: Redacted.make(secretAccessKey),
    ...(sessionToken === undefined || sessionToken === "" ? {} : { sessionToken: Redacted.make(sessionToken) })
  })
}

const SECRETS = { group: "", version: "v1", resource: "secrets" } as const

/** What the credential lookup reads of a location: BackupStorageLocations and VolumeSnapshotLocations both fit. */
export interface CredentialLocation {
  readonly metadata: { readonly name?: string; readonly namespace?: string }
  readonly spec: {
    readonly config?: Readonly<Record<string, string>>
    readonly credential?: { readonly name: string; readonly key: string }
  }
}

const locationName = (location: CredentialLocation): string =>
  `${location.metadata.namespace ?? ""}/${location.metadata.name ?? ""}`

const secretValue = (secret: KubeObject, key: string): Option.Option<string> => {
  const data = secret["data"]
  if (typeof data !== "object" || data === null) return Option.none()
  const encoded = (data as Record<string, unknown>)[key]
  return typeof encoded === "string" ? Option.some(Buffer.from(encoded, "base64").toString("utf8")) : Option.none()
}

export interface ResolvedCredential {
  readonly credentials: Option.Option<AwsCredentials>
  /** Part of the cache key, so a rotated Secret yields a new client. */
  readonly version: string
}

const locationError = (location: CredentialLocation, message: string, cause?: unknown) =>
  new LocationError({ location: locationName(location), message, ...(cause === undefined ? {} : { cause }) })

/**
 * The AWS credentials of a location: its `credential` Secret key (an AWS shared-credentials file,
 * profile `config.profile`), else the `cloud-credentials` Secret if present, else the SDK's default chain.
 */
export const readAwsCredential = (
  kube: KubeClient.Shape,
  location: CredentialLocation
): Effect.Effect<ResolvedCredential, LocationError> => {
  const fail = (message: string, cause?: unknown) => locationError(location, message, cause)
  const named = location.spec.credential
  const ref = named ?? defaultCredential
  const namespace = location.metadata.namespace ?? ""
  const profile = location.spec.config?.["profile"] ?? "default"
  const kubeMessage = (error: KubeError) => `cannot read Secret ${namespace}/${ref.name}: ${error.message}`
  return kube.get(SECRETS, ref.name, namespace).pipe(
    Effect.map((secret) => Option.some(secret)),
    // Without a named credential a missing default Secret means: the SDK's default chain.
    Effect.catchTag(
      "KubeNotFound",
      (error) => named === undefined ? Effect.succeed(Option.none<KubeObject>()) : Effect.fail(error)
    ),
    Effect.mapError((error) => fail(kubeMessage(error), error)),
    Effect.flatMap(Option.match({
      onNone: () => Effect.succeed<ResolvedCredential>({ credentials: Option.none(), version: "default-chain" }),
      onSome: (secret) =>
        Effect.gen(function*() {
          const text = secretValue(secret, ref.key)
          if (Option.isNone(text)) {
            if (named === undefined) return { credentials: Option.none(), version: "default-chain" }
            return yield* fail(`Secret ${namespace}/${ref.name} has no key ${ref.key}`)
          }
          const credentials = parseSharedCredentials(text.value, profile)
          if (Option.isNone(credentials)) {
            return yield* fail(
              `Secret ${namespace}/${ref.name} key ${ref.key} is not an AWS credentials file with ` +
                `aws_access_key_id and aws_secret_access_key in profile [${profile}]`
            )
          }
          return { credentials, version: `${ref.name}@${secret.metadata.resourceVersion ?? ""}` }
        })
    }))
  )
}

/** Supported `config` keys per provider: anything else is a typo worth failing on. */
const knownConfig: Record<string, ReadonlySet<string>> = {
  aws: new Set(["region", "s3Url", "s3ForcePathStyle", "profile"]),
  filesystem: new Set(["path"])
}

/** Only S3 can retain files: a location of another provider asking for Object Lock is refused. */
export const objectLockRefusal = (location: StorageLocation): Option.Option<string> =>
  location.spec.objectStorage.objectLock === undefined || location.spec.provider === "aws"
    ? Option.none()
    : Option.some(
      `objectStorage.objectLock needs provider aws (S3 Object Lock): a ${location.spec.provider} location cannot retain files`
    )

export const make = Effect.gen(function*() {
  const kube = yield* KubeClient
  const scope = yield* Effect.scope
  const cache = new Map<string, { readonly key: string; readonly store: ObjectStore.Shape }>()
  const lock = yield* Effect.makeSemaphore(1)

  const fail = locationError

  const readCredential = (location: StorageLocation) => readAwsCredential(kube, location)

  const checkConfig = (location: StorageLocation): Effect.Effect<void, LocationError> => {
    const known = knownConfig[location.spec.provider]
    if (known === undefined) {
      return Effect.fail(
        fail(location, `unknown provider ${JSON.stringify(location.spec.provider)}: expected aws or filesystem`)
      )
    }
    const unknown = Object.keys(location.spec.config ?? {}).filter((key) => !known.has(key))
    return unknown.length === 0
      ? Effect.void
      : Effect.fail(
        fail(location, `unknown config key(s) for provider ${location.spec.provider}: ${unknown.join(", ")}`)
      )
  }

  const awsStore = Effect.fn("ObjectStoreProvider.aws")(
    function*(location: StorageLocation, credential: ResolvedCredential) {
      const config = location.spec.config ?? {}
      const s3Url = config["s3Url"]
      if (s3Url !== undefined) {
        const url = URL.canParse(s3Url) ? new URL(s3Url) : undefined
        if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
          return yield* fail(location, `config.s3Url ${JSON.stringify(s3Url)} is not an http(s) URL`)
        }
      }
      const forcePathStyle = config["s3ForcePathStyle"]
      if (forcePathStyle !== undefined && forcePathStyle !== "true" && forcePathStyle !== "false") {
        return yield* fail(
          location,
          `config.s3ForcePathStyle must be "true" or "false", got ${JSON.stringify(forcePathStyle)}`
        )
      }
      // S3-compatible stores ignore the region, but the SDK insists on one.
      const region = config["region"] ?? (s3Url === undefined ? undefined : "us-east-1")
      const settings: S3ObjectStore.S3ObjectStoreConfig = {
        bucket: location.spec.objectStorage.bucket,
        ...(location.spec.objectStorage.prefix === undefined ? {} : { prefix: location.spec.objectStorage.prefix }),
        ...(region === undefined ? {} : { region }),
        ...(s3Url === undefined ? {} : { s3Url }),
        ...(forcePathStyle === undefined ? {} : { s3ForcePathStyle: forcePathStyle === "true" }),
        ...Option.match(credential.credentials, { onNone: () => ({}), onSome: (credentials) => ({ credentials }) }),
        ...(location.spec.objectStorage.objectLock === undefined ? {} : { objectLock: true })
      }
      // The AWS SDK is imported with the first S3 location: a filesystem-only server never loads it.
      const S3 = yield* Effect.promise(() => import("./S3.ts"))
      const { bucket, objectLock } = location.spec.objectStorage
      if (objectLock !== undefined) {
        const enabled = yield* S3.bucketHasObjectLock(settings).pipe(
          Effect.mapError((error) =>
            fail(location, `cannot read the Object Lock configuration: ${error.message}`, error)
          )
        )
        if (!enabled) {
          return yield* fail(
            location,
            `objectStorage.objectLock asks for Object Lock but bucket ${bucket} has it off: ` +
              "create the bucket with Object Lock enabled, or remove objectStorage.objectLock"
          )
        }
      }
      // Clients live as long as the provider: a backup may still be using one after the location changes.
      return yield* S3.make(settings).pipe(Scope.extend(scope))
    }
  )

  const filesystemStore = Effect.fn("ObjectStoreProvider.filesystem")(function*(location: StorageLocation) {
    const root = location.spec.config?.["path"]
    if (root === undefined || root === "") {
      return yield* fail(location, "provider filesystem needs config.path, the directory that holds the buckets")
    }
    return yield* FilesystemObjectStore.make({
      root,
      bucket: location.spec.objectStorage.bucket,
      ...(location.spec.objectStorage.prefix === undefined ? {} : { prefix: location.spec.objectStorage.prefix })
    }).pipe(Effect.provide(NodeFileSystem.layer))
  })

  const forLocation = (location: StorageLocation): Effect.Effect<ObjectStore.Shape, LocationError> =>
    Effect.gen(function*() {
      yield* checkConfig(location)
      const refusal = objectLockRefusal(location)
      if (Option.isSome(refusal)) return yield* fail(location, refusal.value)
      if (location.spec.objectStorage.bucket === "") return yield* fail(location, "objectStorage.bucket is empty")
      const credential = location.spec.provider === "aws"
        ? yield* readCredential(location)
        : { credentials: Option.none(), version: "none" }
      const id = location.metadata.uid ?? locationName(location)
      const key = `${location.metadata.generation ?? location.metadata.resourceVersion ?? ""}/${credential.version}`
      return yield* lock.withPermits(1)(Effect.gen(function*() {
        const cached = cache.get(id)
        if (cached !== undefined && cached.key === key) return cached.store
        const store = location.spec.provider === "aws"
          ? yield* awsStore(location, credential)
          : yield* filesystemStore(location)
        cache.set(id, { key, store })
        return store
      }))
    })

  return { forLocation } satisfies ObjectStoreProvider.Shape
})

export const layer: Layer.Layer<ObjectStoreProvider, never, KubeClient> = Layer.scoped(ObjectStoreProvider, make)
