// The EBS BlockStore: snapshots and volumes through the EC2 API (AWS, or an EC2-compatible
// endpoint such as moto), reading volume IDs from in-tree `awsElasticBlockStore` PVs and from
// PVs of the EBS CSI driver.
import type {
  CreateSnapshotCommandInput,
  CreateSnapshotCommandOutput,
  CreateVolumeCommandInput,
  CreateVolumeCommandOutput,
  DeleteSnapshotCommandInput,
  DeleteSnapshotCommandOutput,
  DescribeSnapshotsCommandInput,
  DescribeSnapshotsCommandOutput,
  DescribeVolumesCommandInput,
  DescribeVolumesCommandOutput,
  EC2ClientConfig,
  Snapshot,
  Tag,
  Volume,
  VolumeType
} from "@aws-sdk/client-ec2"
import type { Scope } from "effect"
import { Data, Duration, Effect, Layer, Option, Redacted, Schedule } from "effect"

import type { VolumeInfo } from "../../services/BlockStore.ts"
import { BlockStore, BlockStoreError, SnapshotNotFound, VolumeNotFound } from "../../services/BlockStore.ts"
import type { KubeObject } from "../../services/KubeClient.ts"

export interface EbsConfig {
  readonly region: string
  /** An EC2-compatible endpoint (moto in tests); unset: AWS. */
  readonly ec2Url?: string
  /** Unset: the AWS SDK's default credential chain. */
  readonly credentials?: {
    readonly accessKeyId: string
    readonly secretAccessKey: Redacted.Redacted<string>
    readonly sessionToken?: Redacted.Redacted<string>
  }
  /** How long a snapshot may take to complete, or a volume to become available. Default 10 minutes. */
  readonly readyTimeout?: Duration.DurationInput
  /** First pause between readiness polls; it doubles up to `pollMax`. Defaults 1 s and 15 s. */
  readonly pollInitial?: Duration.DurationInput
  readonly pollMax?: Duration.DurationInput
}

/** The EC2 calls the store makes: the SDK client in production, a script in unit tests. */
export interface Ec2Api {
  readonly describeVolumes: (
    input: DescribeVolumesCommandInput,
    signal: AbortSignal
  ) => Promise<DescribeVolumesCommandOutput>
  readonly describeSnapshots: (
    input: DescribeSnapshotsCommandInput,
    signal: AbortSignal
  ) => Promise<DescribeSnapshotsCommandOutput>
  readonly createSnapshot: (
    input: CreateSnapshotCommandInput,
    signal: AbortSignal
  ) => Promise<CreateSnapshotCommandOutput>
  readonly deleteSnapshot: (
    input: DeleteSnapshotCommandInput,
    signal: AbortSignal
  ) => Promise<DeleteSnapshotCommandOutput>
  readonly createVolume: (input: CreateVolumeCommandInput, signal: AbortSignal) => Promise<CreateVolumeCommandOutput>
  /** The volume types the API knows (the SDK's list). */
  readonly volumeTypes: ReadonlySet<string>
}

const EBS_CSI_DRIVER = "ebs.csi.aws.com"
/** Volume types whose IOPS are provisioned, so a restored volume must ask for them again. */
const PROVISIONED_IOPS = new Set<string>(["io1", "io2", "gp3"])

const record = (value: unknown): Readonly<Record<string, unknown>> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined

/** `aws://us-east-1a/vol-123` and `vol-123` both name vol-123. */
const stripAwsPrefix = (volumeId: string): string => volumeId.slice(volumeId.lastIndexOf("/") + 1)

/** Where a PV keeps its EBS volume ID: the in-tree source or the EBS CSI driver's handle. */
export const ebsVolumeId = (pv: KubeObject): Option.Option<string> => {
  const spec = record(pv["spec"])
  const inTree = record(spec?.["awsElasticBlockStore"])
  if (typeof inTree?.["volumeID"] === "string") return Option.some(stripAwsPrefix(inTree["volumeID"]))
  const csi = record(spec?.["csi"])
  if (csi?.["driver"] === EBS_CSI_DRIVER && typeof csi["volumeHandle"] === "string") {
    return Option.some(csi["volumeHandle"])
  }
  return Option.none()
}

/** The PV pointed at another volume, keeping the `aws://zone/` form when the PV used it. */
export const withEbsVolumeId = (pv: KubeObject, volumeId: string): Option.Option<KubeObject> => {
  const spec = record(pv["spec"]) ?? {}
  const inTree = record(spec["awsElasticBlockStore"])
  if (inTree !== undefined) {
    const old = typeof inTree["volumeID"] === "string" ? inTree["volumeID"] : ""
    const zoned = /^(aws:\/\/[^/]*\/)/.exec(old)
    const written = zoned?.[1] === undefined ? volumeId : `${zoned[1]}${volumeId}`
    return Option.some({ ...pv, spec: { ...spec, awsElasticBlockStore: { ...inTree, volumeID: written } } })
  }
  const csi = record(spec["csi"])
  if (csi?.["driver"] === EBS_CSI_DRIVER) {
    return Option.some({ ...pv, spec: { ...spec, csi: { ...csi, volumeHandle: volumeId } } })
  }
  return Option.none()
}

/** A failed EC2 call before it is mapped onto the port's errors. */
export class Ec2CallError extends Data.TaggedError("Ec2CallError")<{
  readonly operation: string
  readonly code: string
  readonly message: string
  readonly retryable: boolean
  readonly cause: unknown
}> {}

const THROTTLING_CODES = new Set([
  "RequestLimitExceeded",
  "Throttling",
  "ThrottlingException",
  "SnapshotCreationPerVolumeRateExceeded",
  "InternalError",
  "InternalFailure",
  "ServiceUnavailable",
  "Unavailable",
  "TimeoutError",
  "RequestTimeout"
])
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ECONNABORTED",
  "UND_ERR_SOCKET"
])

const field = (value: unknown, name: string): unknown =>
  typeof value === "object" && value !== null && name in value ? (value as Record<string, unknown>)[name] : undefined

/** Names the failure by its EC2 error code (`InvalidVolume.NotFound`) and says whether to try again. */
export const classifyEc2Error = (operation: string, cause: unknown): Ec2CallError => {
  const name = field(cause, "name")
  const errno = field(cause, "code")
  const code = typeof name === "string" ? name : typeof errno === "string" ? errno : "Error"
  const status = field(field(cause, "$metadata"), "httpStatusCode")
  const message = field(cause, "message")
  return new Ec2CallError({
    operation,
    code,
    message: `${code}${typeof status === "number" ? ` (HTTP ${status})` : ""}: ${
      typeof message === "string" && message !== "" ? message : "EC2 request failed"
    }`,
    retryable: THROTTLING_CODES.has(code) || (typeof errno === "string" && NETWORK_CODES.has(errno)) ||
      (typeof status === "number" && (status === 429 || status >= 500)),
    cause
  })
}

const asBlockStoreError = (error: Ec2CallError) =>
  new BlockStoreError({ operation: error.operation, message: error.message, cause: error.cause })

/** The EC2 error `code` becomes the port's not-found error; anything else a BlockStoreError. */
const notFoundOr = <E>(code: string, notFound: () => E) => (error: Ec2CallError): E | BlockStoreError =>
  error.code === code ? notFound() : asBlockStoreError(error)

/** Tags the user set on a resource, minus the `aws:` ones AWS reserves and refuses on create. */
const copyableTags = (tags: ReadonlyArray<Tag> | undefined): Record<string, string> =>
  Object.fromEntries(
    (tags ?? []).flatMap((tag) =>
      tag.Key === undefined || tag.Key.startsWith("aws:") ? [] : [[tag.Key, tag.Value ?? ""] as const]
    )
  )

const toTags = (tags: Readonly<Record<string, string>>): Array<Tag> =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }))

const volumeInfo = (volume: Volume, volumeId: string): VolumeInfo => ({
  volumeId,
  availabilityZone: volume.AvailabilityZone ?? "",
  volumeType: volume.VolumeType ?? "",
  ...(volume.Iops === undefined ? {} : { iops: volume.Iops }),
  ...(volume.Size === undefined ? {} : { sizeGiB: volume.Size })
})

export const clientConfig = (config: EbsConfig): EC2ClientConfig => ({
  region: config.region,
  ...(config.ec2Url === undefined ? {} : { endpoint: config.ec2Url }),
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

const isVolumeType = (api: Ec2Api, volumeType: string): volumeType is VolumeType => api.volumeTypes.has(volumeType)

/** The store over any EC2 API; `make` gives it the SDK client. */
export const makeWithApi = (api: Ec2Api, config: EbsConfig): BlockStore.Shape => {
  const readyTimeout = Duration.decode(config.readyTimeout ?? "10 minutes")
  const pollMax = Duration.decode(config.pollMax ?? "15 seconds")
  const pollDelays: Schedule.Schedule<unknown> = Schedule.exponential(config.pollInitial ?? "1 second").pipe(
    Schedule.union(Schedule.spaced(pollMax))
  )

  // Throttling and server errors, on top of the SDK's own few attempts.
  const call = <A>(operation: string, run: (signal: AbortSignal) => Promise<A>): Effect.Effect<A, Ec2CallError> =>
    Effect.tryPromise({ try: run, catch: (cause) => classifyEc2Error(operation, cause) }).pipe(
      Effect.retry({
        schedule: Schedule.exponential("500 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(5))),
        while: (error) => error.retryable
      })
    )

  /** Polls `check` with capped exponential backoff until `ready`, failing after the ready timeout. */
  const awaitReady = <S, E>(
    what: string,
    operation: string,
    check: Effect.Effect<S, E>,
    ready: (state: S) => boolean
  ) =>
    check.pipe(
      Effect.repeat({
        schedule: Schedule.passthrough<unknown, S, never>(pollDelays),
        until: ready
      }),
      Effect.timeoutFail({
        duration: readyTimeout,
        onTimeout: () =>
          new BlockStoreError({ operation, message: `${what} not ready after ${Duration.format(readyTimeout)}` })
      })
    )

  const describeVolume = (
    operation: string,
    volumeId: string
  ): Effect.Effect<Volume, VolumeNotFound | BlockStoreError> =>
    call(operation, (signal) => api.describeVolumes({ VolumeIds: [volumeId] }, signal)).pipe(
      Effect.mapError(notFoundOr("InvalidVolume.NotFound", () => new VolumeNotFound({ volumeId }))),
      Effect.flatMap((output) => {
        const volume = output.Volumes?.find((v) => v.VolumeId === volumeId)
        return volume === undefined ? Effect.fail(new VolumeNotFound({ volumeId })) : Effect.succeed(volume)
      })
    )

  const describeSnapshot = (
    operation: string,
    snapshotId: string
  ): Effect.Effect<Snapshot, SnapshotNotFound | BlockStoreError> =>
    call(operation, (signal) => api.describeSnapshots({ SnapshotIds: [snapshotId] }, signal)).pipe(
      Effect.mapError(notFoundOr("InvalidSnapshot.NotFound", () => new SnapshotNotFound({ snapshotId }))),
      Effect.flatMap((output) => {
        const snapshot = output.Snapshots?.find((s) => s.SnapshotId === snapshotId)
        return snapshot === undefined ? Effect.fail(new SnapshotNotFound({ snapshotId })) : Effect.succeed(snapshot)
      })
    )

  const getVolumeId = (pv: KubeObject) => Effect.succeed(ebsVolumeId(pv))

  const setVolumeId = (pv: KubeObject, volumeId: string) =>
    Option.match(withEbsVolumeId(pv, volumeId), {
      onNone: () =>
        Effect.fail(
          new BlockStoreError({
            operation: "setVolumeId",
            message: `persistent volume ${pv.metadata.name ?? ""} has no EBS volume source`
          })
        ),
      onSome: (moved) => Effect.succeed(moved)
    })

  const getVolumeInfo = Effect.fn("EbsBlockStore.getVolumeInfo")(
    function*(volumeId: string, _availabilityZone?: string) {
      return volumeInfo(yield* describeVolume("getVolumeInfo", volumeId), volumeId)
    }
  )

  // Best effort: a snapshot that failed or never completed is of no use to anyone.
  const discardSnapshot = (snapshotId: string) =>
    call("deleteSnapshot", (signal) => api.deleteSnapshot({ SnapshotId: snapshotId }, signal)).pipe(
      Effect.catchAll((error) => Effect.logWarning(`cannot delete unusable snapshot ${snapshotId}: ${error.message}`))
    )

  const createSnapshot = Effect.fn("EbsBlockStore.createSnapshot")(function*(
    volumeId: string,
    availabilityZone: string,
    tags: Readonly<Record<string, string>>
  ) {
    // The volume's own tags carry over, as Velero does; the caller's (backup, PV) win.
    const volume = yield* describeVolume("createSnapshot", volumeId)
    const snapshotTags = { ...copyableTags(volume.Tags), ...tags }
    const created = yield* call("createSnapshot", (signal) =>
      api.createSnapshot({
        VolumeId: volumeId,
        Description: `ark snapshot of ${volumeId} in ${availabilityZone}`,
        ...(Object.keys(snapshotTags).length === 0
          ? {}
          : { TagSpecifications: [{ ResourceType: "snapshot", Tags: toTags(snapshotTags) }] })
      }, signal)).pipe(
        Effect.mapError(notFoundOr("InvalidVolume.NotFound", () => new VolumeNotFound({ volumeId })))
      )
    const snapshotId = created.SnapshotId
    if (snapshotId === undefined) {
      return yield* new BlockStoreError({
        operation: "createSnapshot",
        message: `CreateSnapshot of ${volumeId} returned no snapshot ID`
      })
    }
    const snapshot = yield* awaitReady(
      `snapshot ${snapshotId} of ${volumeId}`,
      "createSnapshot",
      describeSnapshot("createSnapshot", snapshotId),
      (s) => s.State !== "pending"
    ).pipe(
      Effect.catchTag(
        "SnapshotNotFound",
        () =>
          Effect.fail(
            new BlockStoreError({
              operation: "createSnapshot",
              message: `snapshot ${snapshotId} of ${volumeId} disappeared while pending`
            })
          )
      ),
      Effect.tapError(() => discardSnapshot(snapshotId))
    )
    if (snapshot.State !== "completed") {
      yield* discardSnapshot(snapshotId)
      return yield* new BlockStoreError({
        operation: "createSnapshot",
        message: `snapshot ${snapshotId} of ${volumeId} ended in state ${snapshot.State ?? "unknown"}${
          snapshot.StateMessage === undefined ? "" : `: ${snapshot.StateMessage}`
        }`
      })
    }
    return snapshotId
  })

  // Like Velero: deleting a snapshot that is already gone succeeds, so deletion can be retried.
  const deleteSnapshot = Effect.fn("EbsBlockStore.deleteSnapshot")(function*(snapshotId: string) {
    yield* call("deleteSnapshot", (signal) => api.deleteSnapshot({ SnapshotId: snapshotId }, signal)).pipe(
      Effect.catchTag(
        "Ec2CallError",
        (error) => error.code === "InvalidSnapshot.NotFound" ? Effect.void : Effect.fail(asBlockStoreError(error))
      )
    )
  })

  const createVolumeFromSnapshot = Effect.fn("EbsBlockStore.createVolumeFromSnapshot")(function*(
    snapshotId: string,
    volumeType: string,
    availabilityZone: string,
    iops?: number
  ) {
    if (!isVolumeType(api, volumeType)) {
      return yield* new BlockStoreError({
        operation: "createVolumeFromSnapshot",
        message: `unknown EBS volume type ${JSON.stringify(volumeType)}`
      })
    }
    const snapshot = yield* describeSnapshot("createVolumeFromSnapshot", snapshotId)
    const tags = copyableTags(snapshot.Tags)
    const created = yield* call("createVolumeFromSnapshot", (signal) =>
      api.createVolume({
        SnapshotId: snapshotId,
        AvailabilityZone: availabilityZone,
        VolumeType: volumeType,
        ...(iops !== undefined && PROVISIONED_IOPS.has(volumeType) ? { Iops: iops } : {}),
        ...(Object.keys(tags).length === 0
          ? {}
          : { TagSpecifications: [{ ResourceType: "volume", Tags: toTags(tags) }] })
      }, signal)).pipe(
        Effect.mapError(notFoundOr("InvalidSnapshot.NotFound", () => new SnapshotNotFound({ snapshotId })))
      )
    const volumeId = created.VolumeId
    if (volumeId === undefined) {
      return yield* new BlockStoreError({
        operation: "createVolumeFromSnapshot",
        message: `CreateVolume from ${snapshotId} returned no volume ID`
      })
    }
    const volume = yield* awaitReady(
      `volume ${volumeId} from ${snapshotId}`,
      "createVolumeFromSnapshot",
      describeVolume("createVolumeFromSnapshot", volumeId),
      (v) => v.State !== "creating"
    ).pipe(
      Effect.catchTag(
        "VolumeNotFound",
        () =>
          Effect.fail(
            new BlockStoreError({
              operation: "createVolumeFromSnapshot",
              message: `volume ${volumeId} from ${snapshotId} disappeared while creating`
            })
          )
      )
    )
    if (volume.State !== "available" && volume.State !== "in-use") {
      return yield* new BlockStoreError({
        operation: "createVolumeFromSnapshot",
        message: `volume ${volumeId} from ${snapshotId} ended in state ${volume.State ?? "unknown"}`
      })
    }
    return volumeId
  })

  return { getVolumeId, setVolumeId, getVolumeInfo, createSnapshot, deleteSnapshot, createVolumeFromSnapshot }
}

/**
 * An EBS store whose SDK client lives as long as the scope. The SDK (~100 MiB resident) is loaded
 * on first use, so a server or CLI without EBS snapshot locations never pays for it.
 */
export const make = (config: EbsConfig): Effect.Effect<BlockStore.Shape, never, Scope.Scope> =>
  Effect.promise(() => import("./ebsClient.ts")).pipe(
    Effect.flatMap(({ openEc2 }) =>
      Effect.acquireRelease(
        Effect.sync(() => openEc2(clientConfig(config))),
        (client) => Effect.sync(() => client.destroy())
      )
    ),
    Effect.map((client) => makeWithApi(client.api, config))
  )

export const layer = (config: EbsConfig): Layer.Layer<BlockStore> => Layer.scoped(BlockStore, make(config))
