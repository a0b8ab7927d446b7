// The actor model of the server: one supervised fiber per resource (a FiberMap keyed by uid).
// A failure or defect in one resource's fiber is logged and recorded in that resource's status;
// it never reaches the informer or another resource's fiber. An event for an object whose fiber is
// running is not dropped: the newest version waits in the fiber's mailbox, and the fiber either
// takes it (`changed`) or is reconciled again with it when its work ends, as controller-runtime's
// work queue requeues a key that changed while it was being processed.
import type { Scope } from "effect"
import { Cause, Effect, FiberMap, Metric, Option } from "effect"

import type { GroupVersionResource, KubeClient, KubeObject } from "../../services/KubeClient.ts"
import type { InformerOptions, ResourceEvent } from "./informer.ts"
import { runInformer } from "./informer.ts"

export interface ReconcileContext {
  /** True while handling the server's first list: what is InProgress now was left by a crash. */
  readonly initial: boolean
  /** Runs `effect` under one of the controller's concurrency permits. */
  readonly limited: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /**
   * Completes when a newer version of the object arrives while this work runs. Long-lived work
   * (a Schedule between ticks) races its waits with it; the version it wakes for is then taken,
   * and is not reconciled again when the work ends.
   */
  readonly changed: Effect.Effect<void>
}

export interface ResourceController<E, F, R> {
  /** For logs: `backup`, `restore`, ... */
  readonly name: string
  readonly gvr: GroupVersionResource
  readonly namespace: string
  /** How many `limited` sections run at once. */
  readonly concurrency: number
  /**
   * The work this object needs now, or None. Not called while the object's fiber still runs: a
   * version that arrives meanwhile is passed here when the fiber's work ends.
   */
  readonly reconcile: (object: KubeObject, context: ReconcileContext) => Option.Option<Effect.Effect<void, E, R>>
  /** Records an unexpected failure or defect in the object's status. Its own failures are only logged. */
  readonly onFailure: (object: KubeObject, cause: Cause.Cause<E>) => Effect.Effect<void, F, R>
  readonly retry?: InformerOptions["retry"]
  /** Set to how many objects of the kind the namespace holds, after every list and event. */
  readonly population?: Metric.Metric.Gauge<number>
}

/** One line for status.failureReason: the failure's message, or the defect's. */
export const failureReason = <E>(cause: Cause.Cause<E>): string => {
  const error = Cause.squash(cause)
  const message = error instanceof Error ?
    error.message :
    typeof error === "object" && error !== null && "message" in error
    ? String((error as { readonly message: unknown }).message)
    : String(error)
  const kind = Cause.isFailure(cause) ? "failed" : "unexpected error"
  return `${kind}: ${message.split("\n")[0] ?? ""}`
}

/** What arrived for a running fiber: the newest version not yet handled, and a latch to wake it. */
interface Mailbox {
  /** The last version the fiber was given or sent. */
  version: string | undefined
  pending: KubeObject | undefined
  readonly wakeup: Effect.Latch
}

const makeMailbox = (object: KubeObject): Mailbox => ({
  version: object.metadata.resourceVersion,
  pending: undefined,
  wakeup: Effect.unsafeMakeLatch(false)
})

const post = (mailbox: Mailbox, object: KubeObject) => {
  mailbox.version = object.metadata.resourceVersion
  mailbox.pending = object
  mailbox.wakeup.unsafeOpen()
}

const take = (mailbox: Mailbox): KubeObject | undefined => {
  const pending = mailbox.pending
  mailbox.pending = undefined
  mailbox.wakeup.unsafeClose()
  return pending
}

const label = (object: KubeObject) => `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`

/** Runs the controller until interrupted; interrupting it interrupts every resource fiber. */
export const supervise = <E, F, R>(
  controller: ResourceController<E, F, R>
): Effect.Effect<never, never, KubeClient | R | Scope.Scope> =>
  Effect.gen(function*() {
    const fibers = yield* FiberMap.make<string>()
    const permits = yield* Effect.makeSemaphore(Math.max(1, controller.concurrency))
    const limited = <A, E2, R2>(effect: Effect.Effect<A, E2, R2>) => permits.withPermits(1)(effect)

    const supervised = (object: KubeObject, work: Effect.Effect<void, E, R>) =>
      work.pipe(
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause)
            ? Effect.void
            : Effect.logError(`${controller.name} ${label(object)} failed`, cause).pipe(
              Effect.zipRight(controller.onFailure(object, cause)),
              Effect.catchAllCause((statusCause) =>
                Effect.logError(
                  `${controller.name} ${label(object)}: cannot record the failure in its status`,
                  statusCause
                )
              )
            )
        ),
        Effect.annotateLogs({ controller: controller.name, resource: label(object) })
      )

    // One mailbox per running fiber, read and written only in synchronous sections, so an event can
    // never fall between "the fiber found nothing new" and "the fiber is gone".
    const mailboxes = new Map<string, Mailbox>()

    const contextOf = (mailbox: Mailbox, initial: boolean): ReconcileContext => ({
      initial,
      limited,
      changed: mailbox.wakeup.await.pipe(Effect.zipRight(Effect.sync(() => take(mailbox))), Effect.asVoid)
    })

    /** Runs `work`, then again for each version that arrived meanwhile, until none is left. */
    const runUntilClean = (
      uid: string,
      mailbox: Mailbox,
      object: KubeObject,
      work: Effect.Effect<void, E, R>
    ): Effect.Effect<void, never, R> =>
      supervised(object, work).pipe(
        // Deciding to end and leaving the mailbox map happen in one synchronous step.
        Effect.zipRight(Effect.sync(() => {
          const next = take(mailbox)
          const again = next === undefined
            ? Option.none()
            : Option.map(controller.reconcile(next, contextOf(mailbox, false)), (work) => ({ next, work }))
          if (Option.isNone(again) && mailboxes.get(uid) === mailbox) mailboxes.delete(uid)
          return again
        })),
        Effect.flatMap(Option.match({
          onNone: () => Effect.void,
          onSome: ({ next, work }) => runUntilClean(uid, mailbox, next, work)
        }))
      )

    const start = (object: KubeObject, initial: boolean) =>
      Effect.suspend(() => {
        const uid = object.metadata.uid
        if (uid === undefined) return Effect.void
        const running = mailboxes.get(uid)
        if (running !== undefined) {
          // A relist repeats the version the fiber already has; only a newer one is news.
          if (object.metadata.resourceVersion !== running.version) post(running, object)
          return Effect.void
        }
        const mailbox = makeMailbox(object)
        return Option.match(controller.reconcile(object, contextOf(mailbox, initial)), {
          onNone: () => Effect.void,
          onSome: (work) => {
            mailboxes.set(uid, mailbox)
            // An earlier fiber of this uid may still be finishing after it closed its mailbox: replace it.
            return FiberMap.run(fibers, uid, runUntilClean(uid, mailbox, object, work)).pipe(Effect.asVoid)
          }
        })
      })

    const stop = (uid: string) =>
      Effect.suspend(() => {
        mailboxes.delete(uid)
        return FiberMap.remove(fibers, uid)
      })

    // The uids the namespace holds, kept only to count them.
    const present = new Set<string>()
    const count = (event: ResourceEvent) =>
      Effect.suspend(() => {
        const { population } = controller
        if (population === undefined) return Effect.void
        if (event._tag === "Listed") {
          present.clear()
          for (const object of event.objects) if (object.metadata.uid !== undefined) present.add(object.metadata.uid)
        } else if (event.object.metadata.uid !== undefined) {
          if (event._tag === "Upserted") present.add(event.object.metadata.uid)
          else present.delete(event.object.metadata.uid)
        }
        return Metric.set(population, present.size)
      })

    const dispatch = (event: ResourceEvent): Effect.Effect<void, never, R> => {
      switch (event._tag) {
        case "Listed": {
          const present = new Set(event.objects.flatMap((object) => object.metadata.uid ?? []))
          // Deleted while the watch was down: stop their work as a DELETED event would have.
          const gone = [...fibers].map(([uid]) => uid).filter((uid) => !present.has(uid))
          return Effect.forEach(gone, stop, { discard: true }).pipe(
            Effect.zipRight(Effect.forEach(event.objects, (object) => start(object, event.initial), { discard: true }))
          )
        }
        case "Upserted":
          return start(event.object, false)
        case "Deleted":
          return event.object.metadata.uid === undefined ? Effect.void : stop(event.object.metadata.uid)
      }
    }

    const handle = (event: ResourceEvent) => count(event).pipe(Effect.zipRight(dispatch(event)))

    return yield* runInformer(
      {
        gvr: controller.gvr,
        namespace: controller.namespace,
        ...(controller.retry === undefined ? {} : { retry: controller.retry })
      },
      handle
    ).pipe(Effect.annotateLogs({ controller: controller.name }))
  })
