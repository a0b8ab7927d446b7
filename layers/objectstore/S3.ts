import type { S3ClientConfig } from "@aws-sdk/client-s3"
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  S3Client
} from "@aws-sdk/client-s3"
import { Upload } from "@aws-sdk/lib-storage"
import { getSignedUrl } from "@aws-sdk/s3-request-presigner"
import * as NodeStream from "@effect/platform-node/NodeStream"
import type { Cause, Scope } from "effect"
import { Duration, Effect, Layer, Option, Redacted, Ref, Schedule, Stream } from "effect"

import type { ObjectInfo, PutOptions, Retention } from "../../services/ObjectStore.ts"
import { ObjectNotFound, ObjectStore, ObjectStoreError } from "../../services/ObjectStore.ts"
import { joinKey } from "./listing.ts"

export interface S3ObjectStoreConfig {
  readonly bucket: string
  /** Keys are stored under `<prefix>/`. */
  readonly prefix?: string
  readonly region?: string
  /** An S3-compatible endpoint such as MinIO; unset: AWS. */
  readonly s3Url?: string
  readonly s3ForcePathStyle?: boolean
  /** Unset: the AWS SDK's default credential chain (environment, shared files, instance roles). */
  readonly credentials?: {
    readonly accessKeyId: string
    readonly secretAccessKey: Redacted.Redacted<string>
    readonly sessionToken?: Redacted.Redacted<string>
  }
  /** Attempts of a retryable read beyond the SDK's own. */
  readonly readRetries?: number
  /**
   * The bucket has Object Lock (so versioning): a delete removes every version of the key, which S3
   * refuses for a version under retention. A plain delete would only hide it behind a delete marker.
   */
  readonly objectLock?: boolean
}

interface VersionMarker {
  readonly key: string | undefined
  readonly version: string | undefined
}

/** Multipart part size and parallel parts: an upload holds at most about partSize × (queueSize + 1) bytes. */
const PART_SIZE = 8 * 1024 * 1024
const QUEUE_SIZE = 2

const THROTTLING_NAMES = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "RequestThrottled",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "RequestTimeout",
  "RequestTimeoutException",
  "InternalError",
  "ServiceUnavailable",
  "TimeoutError"
])
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNABORTED",
  "UND_ERR_SOCKET"
])

const field = (value: unknown, name: string): unknown =>
  typeof value === "object" && value !== null && name in value ? (value as Record<string, unknown>)[name] : undefined

const statusOf = (cause: unknown): number | undefined => {
  const status = field(field(cause, "$metadata"), "httpStatusCode")
  return typeof status === "number" ? status : undefined
}

/** Whether a failed S3 call is worth repeating: throttling, server errors, broken connections. */
export const isRetryableS3Error = (cause: unknown): boolean => {
  const status = statusOf(cause)
  const name = field(cause, "name")
  const code = field(cause, "code")
  return (status !== undefined && (status === 429 || status >= 500)) ||
    field(cause, "$retryable") !== undefined ||
    (typeof name === "string" && THROTTLING_NAMES.has(name)) ||
    (typeof code === "string" && NETWORK_CODES.has(code))
}

/** Maps an SDK failure onto the port's errors; a missing bucket is an error, a missing key is not found. */
export const classifyS3Error = (operation: string, key: string, cause: unknown): ObjectNotFound | ObjectStoreError => {
  const name = field(cause, "name")
  const status = statusOf(cause)
  if (name === "NoSuchKey" || (status === 404 && name !== "NoSuchBucket")) return new ObjectNotFound({ key })
  const message = field(cause, "message")
  return new ObjectStoreError({
    operation,
    key,
    message: `${typeof name === "string" ? name : "Error"}${status === undefined ? "" : ` (HTTP ${status})`}: ${
      typeof message === "string" && message !== "" ? message : "S3 request failed"
    }`,
    retryable: isRetryableS3Error(cause),
    cause
  })
}

const asStoreError = (operation: string, key: string) => (cause: unknown): ObjectStoreError => {
  const error = classifyS3Error(operation, key, cause)
  return error._tag === "ObjectStoreError"
    ? error
    : new ObjectStoreError({
      operation,
      key,
      message: `unexpected not found: ${String(field(cause, "message"))}`,
      retryable: false,
      cause
    })
}

export const clientConfig = (config: S3ObjectStoreConfig): S3ClientConfig => ({
  ...(config.region === undefined ? {} : { region: config.region }),
  ...(config.s3Url === undefined ? {} : { endpoint: config.s3Url }),
  ...(config.s3ForcePathStyle === undefined ? {} : { forcePathStyle: config.s3ForcePathStyle }),
  ...(config.credentials === undefined ? {} : {
    credentials: {
      accessKeyId: config.credentials.accessKeyId,
      secretAccessKey: Redacted.value(config.credentials.secretAccessKey),
      ...(config.credentials.sessionToken === undefined
        ? {}
        : { sessionToken: Redacted.value(config.credentials.sessionToken) })
    }
  })
})

export const make = (config: S3ObjectStoreConfig): Effect.Effect<ObjectStore.Shape, never, Scope.Scope> =>
  Effect.gen(function*() {
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => new S3Client(clientConfig(config))),
      (client) => Effect.sync(() => client.destroy())
    )
    const bucket = config.bucket
    const fullKey = (key: string) => joinKey(config.prefix, key)
    const storePrefix = config.prefix === undefined || config.prefix === "" ? "" : joinKey(config.prefix, "")
    const relative = (key: string) => key.startsWith(storePrefix) ? key.slice(storePrefix.length) : key

    const retryReads = <A, E extends ObjectNotFound | ObjectStoreError>(effect: Effect.Effect<A, E>) =>
      effect.pipe(
        Effect.retry({
          schedule: Schedule.exponential("200 millis").pipe(
            Schedule.jittered,
            Schedule.intersect(Schedule.recurs(config.readRetries ?? 4))
          ),
          while: (error) => error._tag === "ObjectStoreError" && error.retryable
        })
      )

    const put = <E>(key: string, body: Stream.Stream<Uint8Array, E>, options?: PutOptions) =>
      Effect.gen(function*() {
        const retention = options?.retention
        // The body's own failure must come out as itself, not as a storage error.
        const bodyFailure = yield* Ref.make(Option.none<Cause.Cause<E>>())
        const readable = yield* NodeStream.toReadable(
          body.pipe(Stream.onError((cause) => Ref.set(bodyFailure, Option.some(cause))))
        )
        const upload = new Upload({
          client,
          // Object Lock PUTs need a checksum: the SDK sends x-amz-checksum-crc32 on every part by default.
          params: {
            Bucket: bucket,
            Key: fullKey(key),
            Body: readable,
            ...(retention === undefined
              ? {}
              : { ObjectLockMode: retention.mode, ObjectLockRetainUntilDate: retention.retainUntil })
          },
          partSize: PART_SIZE,
          queueSize: QUEUE_SIZE,
          leavePartsOnError: false
        })
        const uploaded = yield* Effect.tryPromise({
          try: (signal) => {
            signal.addEventListener("abort", () => void upload.abort().catch(() => undefined))
            return upload.done()
          },
          catch: (cause) => cause
        }).pipe(
          Effect.either,
          // Stops the fiber feeding the body when the upload ends early or is interrupted.
          Effect.ensuring(Effect.sync(() => readable.destroy()))
        )
        if (uploaded._tag === "Right") return
        const failure = yield* Ref.get(bodyFailure)
        if (Option.isSome(failure)) return yield* Effect.failCause(failure.value)
        return yield* Effect.fail(asStoreError("put", key)(uploaded.left))
      }).pipe(Effect.withSpan("S3ObjectStore.put", { attributes: { key } }))

    const get = (key: string): Stream.Stream<Uint8Array, ObjectNotFound | ObjectStoreError> =>
      Stream.unwrap(
        retryReads(
          Effect.tryPromise({
            try: (signal) =>
              client.send(new GetObjectCommand({ Bucket: bucket, Key: fullKey(key) }), { abortSignal: signal }),
            catch: (cause) => classifyS3Error("get", key, cause)
          })
        ).pipe(
          Effect.map((output) =>
            output.Body === undefined
              ? Stream.empty
              : Stream.fromReadableStream({
                evaluate: () => (output.Body as NonNullable<typeof output.Body>).transformToWebStream(),
                onError: (cause) => asStoreError("get", key)(cause)
              })
          )
        )
      )

    const head = (operation: string, key: string) =>
      retryReads(
        Effect.tryPromise({
          try: (signal) =>
            client.send(new HeadObjectCommand({ Bucket: bucket, Key: fullKey(key) }), { abortSignal: signal }),
          catch: (cause) => classifyS3Error(operation, key, cause)
        })
      )

    const exists = (key: string) =>
      head("exists", key).pipe(
        Effect.as(true),
        Effect.catchTag("ObjectNotFound", () => Effect.succeed(false))
      )

    const listPage = (prefix: string, delimiter: string | undefined, token: string | undefined) =>
      retryReads(
        Effect.tryPromise({
          try: (signal) =>
            client.send(
              new ListObjectsV2Command({
                Bucket: bucket,
                Prefix: joinKey(config.prefix, prefix),
                ...(delimiter === undefined ? {} : { Delimiter: delimiter }),
                ...(token === undefined ? {} : { ContinuationToken: token })
              }),
              { abortSignal: signal }
            ),
          catch: asStoreError("list", prefix)
        })
      )

    const list = Effect.fn("S3ObjectStore.list")(function*(prefix: string, options?: { readonly delimiter?: string }) {
      const delimiter = options?.delimiter === "" ? undefined : options?.delimiter
      const pages = yield* Stream.paginateEffect(
        undefined as string | undefined,
        (token) =>
          listPage(prefix, delimiter, token).pipe(
            Effect.map((page) =>
              [
                page,
                page.IsTruncated === true && page.NextContinuationToken
                  ? Option.some(page.NextContinuationToken)
                  : Option.none()
              ] as const
            )
          )
      ).pipe(Stream.runCollect)
      const objects: Array<ObjectInfo> = []
      const prefixes: Array<string> = []
      for (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue
          objects.push({
            key: relative(object.Key),
            size: object.Size ?? 0,
            lastModified: object.LastModified ?? new Date(0)
          })
        }
        for (const common of page.CommonPrefixes ?? []) {
          if (common.Prefix !== undefined) prefixes.push(relative(common.Prefix))
        }
      }
      return { objects, prefixes }
    })

    const retention = (key: string) =>
      head("retention", key).pipe(
        Effect.map((output) =>
          output.ObjectLockMode === undefined || output.ObjectLockRetainUntilDate === undefined
            ? Option.none<Retention>()
            : Option.some<Retention>({ mode: output.ObjectLockMode, retainUntil: output.ObjectLockRetainUntilDate })
        )
      )

    const deleteVersion = (key: string, versionId?: string) =>
      Effect.tryPromise({
        try: (signal) =>
          client.send(
            new DeleteObjectCommand({
              Bucket: bucket,
              Key: fullKey(key),
              ...(versionId === undefined ? {} : { VersionId: versionId })
            }),
            { abortSignal: signal }
          ),
        catch: asStoreError("delete", key)
      }).pipe(Effect.asVoid)

    /** Every version and delete marker of exactly this key (a listing by prefix also finds longer keys). */
    const versionsOf = (key: string) =>
      Stream.paginateEffect(
        undefined as VersionMarker | undefined,
        (marker) =>
          retryReads(
            Effect.tryPromise({
              try: (signal) =>
                client.send(
                  new ListObjectVersionsCommand({
                    Bucket: bucket,
                    Prefix: fullKey(key),
                    ...(marker?.key === undefined ? {} : { KeyMarker: marker.key }),
                    ...(marker?.version === undefined ? {} : { VersionIdMarker: marker.version })
                  }),
                  { abortSignal: signal }
                ),
              catch: asStoreError("delete", key)
            })
          ).pipe(
            Effect.map((page) => {
              const ids = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
                .filter((version) => version.Key === fullKey(key))
                .flatMap((version) => version.VersionId === undefined ? [] : [version.VersionId])
              const next: Option.Option<VersionMarker | undefined> = page.IsTruncated === true
                ? Option.some({ key: page.NextKeyMarker, version: page.NextVersionIdMarker })
                : Option.none()
              return [ids, next] as const
            })
          )
      ).pipe(Stream.runCollect, Effect.map((pages) => [...pages].flat()))

    // S3 answers 204 for a missing key, so deletion is idempotent by itself.
    const remove = (key: string) =>
      config.objectLock === true
        ? versionsOf(key).pipe(
          Effect.flatMap((versions) =>
            Effect.forEach(versions, (version) => deleteVersion(key, version), { discard: true })
          )
        )
        : deleteVersion(key)

    const signedUrl = Effect.fn("S3ObjectStore.signedUrl")(function*(key: string, expiresIn: Duration.Duration) {
      yield* head("signedUrl", key)
      return yield* Effect.tryPromise({
        try: () =>
          getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: fullKey(key) }), {
            expiresIn: Math.max(1, Math.floor(Duration.toSeconds(expiresIn)))
          }),
        catch: asStoreError("signedUrl", key)
      })
    })

    return { put, get, exists, list, retention, delete: remove, signedUrl } satisfies ObjectStore.Shape
  })

/** Whether the bucket has Object Lock enabled, from its GetObjectLockConfiguration. */
export const bucketHasObjectLock = (config: S3ObjectStoreConfig): Effect.Effect<boolean, ObjectStoreError> =>
  Effect.acquireUseRelease(
    Effect.sync(() => new S3Client(clientConfig(config))),
    (client) =>
      Effect.tryPromise({
        try: (signal) =>
          client.send(new GetObjectLockConfigurationCommand({ Bucket: config.bucket }), { abortSignal: signal }),
        catch: (cause) => cause
      }).pipe(
        Effect.map((output) => output.ObjectLockConfiguration?.ObjectLockEnabled === "Enabled"),
        Effect.catchAll((cause) =>
          field(cause, "name") === "ObjectLockConfigurationNotFoundError"
            ? Effect.succeed(false)
            : Effect.fail(asStoreError("objectLock", "")(cause))
        )
      ),
    (client) => Effect.sync(() => client.destroy())
  )

export const layer = (config: S3ObjectStoreConfig): Layer.Layer<ObjectStore> => Layer.scoped(ObjectStore, make(config))
