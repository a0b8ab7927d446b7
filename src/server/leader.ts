// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: only the holder runs the
// controllers, so two replicas never process the same resource. Expiry is judged by this process's
// own Clock from when it last saw the lease change (never by comparing another host's timestamps),
// and every write is an optimistic update, so two candidates can never both win.
import { Data, DateTime, Duration, Effect, Option } from "effect"

import type { GroupVersionResource, KubeError, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"

export const leasesGvr: GroupVersionResource = { group: "coordination.k8s.io", version: "v1", resource: "leases" }

export interface LeaderElectionConfig {
  readonly namespace: string
  /** The Lease's name; every replica of one server uses the same. */
  readonly leaseName: string
  /** Who we are: unique per process. */
  readonly identity: string
  /** How long a holder that stops renewing keeps the lease. Default 15s. */
  readonly leaseDuration?: Duration.DurationInput
  /** A leader that cannot renew for this long steps down. Default 10s. */
  readonly renewDeadline?: Duration.DurationInput
  /** How often candidates try and leaders renew. Default 2s. */
  readonly retryPeriod?: Duration.DurationInput
  /** Written on the lease with every renewal, so readers learn about the holder (its version). */
  readonly annotations?: Readonly<Record<string, string>>
}

/** The leader could not renew in time, or another replica took the lease. */
export class LeadershipLost
  extends Data.TaggedError("LeadershipLost")<{ readonly identity: string; readonly reason: string }>
{
  override get message() {
    return `${this.identity} lost the leader lease: ${this.reason}`
  }
}

interface LeaseSpec {
  readonly holderIdentity?: string
  readonly leaseDurationSeconds?: number
  readonly acquireTime?: string
  readonly renewTime?: string
  readonly leaseTransitions?: number
}

const specOf = (lease: KubeObject): LeaseSpec => (lease["spec"] as LeaseSpec | undefined) ?? {}

/** MicroTime: RFC 3339 with microseconds, as the API server requires for Lease times. */
const microTime = (now: DateTime.Utc) => `${DateTime.formatIso(now).slice(0, -1)}000Z`

const settings = (config: LeaderElectionConfig) => ({
  leaseDuration: Duration.decode(config.leaseDuration ?? "15 seconds"),
  renewDeadline: Duration.decode(config.renewDeadline ?? "10 seconds"),
  retryPeriod: Duration.decode(config.retryPeriod ?? "2 seconds")
})

/** What this candidate last saw of the lease, and when (by its own clock). */
interface Observed {
  readonly resourceVersion: string
  readonly millis: number
}

const makeElector = (config: LeaderElectionConfig) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const { leaseDuration, retryPeriod } = settings(config)
    const { annotations, identity, leaseName, namespace } = config
    let observed: Option.Option<Observed> = Option.none()

    const leaseBody = (now: DateTime.Utc, previous: LeaseSpec, acquiring: boolean) => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(Duration.toSeconds(leaseDuration)),
      acquireTime: acquiring ? microTime(now) : previous.acquireTime ?? microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (previous.leaseTransitions ?? 0) +
        (acquiring && previous.holderIdentity !== undefined && previous.holderIdentity !== "" ? 1 : 0)
    })

    /** One attempt to take or renew the lease: true when we hold it afterwards. */
    const tryAcquireOrRenew: Effect.Effect<boolean, KubeError> = Effect.gen(function*() {
      const now = yield* DateTime.now
      const millis = DateTime.toEpochMillis(now)
      const current = yield* kube.get(leasesGvr, leaseName, namespace).pipe(
        Effect.map(Option.some),
        Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.none<KubeObject>()))
      )
      if (Option.isNone(current)) {
        return yield* kube.create(leasesGvr, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: leaseName, namespace, ...(annotations === undefined ? {} : { annotations }) },
          spec: leaseBody(now, {}, true)
        }).pipe(
          Effect.tap((created) =>
            Effect.sync(
              () => (observed = Option.some({ resourceVersion: created.metadata.resourceVersion ?? "", millis }))
            )
          ),
          Effect.as(true),
          Effect.catchTag("KubeAlreadyExists", () => Effect.succeed(false))
        )
      }
      const lease = current.value
      const spec = specOf(lease)
      const resourceVersion = lease.metadata.resourceVersion ?? ""
      if (Option.isNone(observed) || observed.value.resourceVersion !== resourceVersion) {
        observed = Option.some({ resourceVersion, millis })
      }
      const holder = spec.holderIdentity ?? ""
      const held = holder !== "" && holder !== identity
      const durationMillis = (spec.leaseDurationSeconds ?? Duration.toSeconds(leaseDuration)) * 1000
      const expired = Option.match(observed, {
        onNone: () => true,
        onSome: (seen) => seen.millis + durationMillis <= millis
      })
      if (held && !expired) return false
      return yield* kube.update(leasesGvr, {
        ...lease,
        metadata: { ...lease.metadata, annotations: { ...lease.metadata.annotations, ...annotations } },
        spec: { ...spec, ...leaseBody(now, spec, holder !== identity) }
      }).pipe(
        Effect.tap((updated) =>
          Effect.sync(
            () => (observed = Option.some({ resourceVersion: updated.metadata.resourceVersion ?? "", millis }))
          )
        ),
        Effect.as(true),
        // Another candidate wrote first: it wins this round.
        Effect.catchTag("KubeConflict", () => Effect.succeed(false))
      )
    })

    /** Gives the lease up so a standby takes over at once rather than after leaseDuration. */
    const release = Effect.gen(function*() {
      const lease = yield* kube.get(leasesGvr, leaseName, namespace)
      if (specOf(lease).holderIdentity !== identity) return
      yield* kube.update(leasesGvr, {
        ...lease,
        spec: { ...specOf(lease), holderIdentity: "", leaseDurationSeconds: 1 }
      })
    }).pipe(
      // Shutdown must stay bounded: an unreachable API server costs a standby one lease duration, not a hang.
      Effect.timeout("5 seconds"),
      Effect.ignore
    )

    return { tryAcquireOrRenew, release, retryPeriod }
  })

/**
 * Runs `work` only while this process holds the lease: waits to acquire it, renews it every
 * retryPeriod, and fails with LeadershipLost (interrupting `work`) when a renewal does not
 * succeed within renewDeadline. The lease is released when `work` ends or is interrupted.
 */
export const whileLeader = <A, E, R>(config: LeaderElectionConfig, work: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const elector = yield* makeElector(config)
    const { renewDeadline, retryPeriod } = settings(config)
    const attempt = elector.tryAcquireOrRenew.pipe(
      Effect.tapError((error) => Effect.logWarning(`leader election: ${error.message}`)),
      Effect.orElseSucceed(() => false)
    )
    // Candidate: poll until we hold the lease.
    yield* Effect.logInfo(`waiting for the leader lease ${config.namespace}/${config.leaseName}`)
    while (!(yield* attempt)) yield* Effect.sleep(retryPeriod)
    yield* Effect.logInfo(`acquired the leader lease ${config.namespace}/${config.leaseName}`).pipe(
      Effect.annotateLogs({ identity: config.identity })
    )

    // Leader: renew until a renewal fails for longer than renewDeadline.
    const renewals = Effect.gen(function*() {
      let lastRenewed = yield* DateTime.now
      while (true) {
        yield* Effect.sleep(retryPeriod)
        const now = yield* DateTime.now
        if (yield* attempt) {
          lastRenewed = now
        } else if (Duration.greaterThanOrEqualTo(DateTime.distanceDuration(lastRenewed, now), renewDeadline)) {
          return yield* new LeadershipLost({
            identity: config.identity,
            reason: `no renewal for ${Duration.format(renewDeadline)}`
          })
        }
      }
    })
    return yield* Effect.raceFirst(work, renewals).pipe(Effect.ensuring(elector.release))
  })
