// The actor model of the server: one supervised fiber per resource (a FiberMap keyed by uid).
// A failure or defect in one resource's fiber is logged and recorded in that resource's status;
// it never reaches the informer or another resource's fiber.
import type { Scope } from "effect"
import { Cause, Effect, FiberMap, Option } from "effect"

import type { GroupVersionResource, KubeClient, KubeObject } from "../../services/KubeClient.ts"
import type { InformerOptions, ResourceEvent } from "./informer.ts"
import { runInformer } from "./informer.ts"

export interface ReconcileContext {
  /** True while handling the server's first list: what is InProgress now was left by a crash. */
  readonly initial: boolean
  /** Runs `effect` under one of the controller's concurrency permits. */
  readonly limited: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

export interface ResourceController<E, F, R> {
  /** For logs: `backup`, `restore`, ... */
  readonly name: string
  readonly gvr: GroupVersionResource
  readonly namespace: string
  /** How many `limited` sections run at once. */
  readonly concurrency: number
  /** The work this object needs now, or None. Not called while the object's fiber still runs. */
  readonly reconcile: (object: KubeObject, context: ReconcileContext) => Option.Option<Effect.Effect<void, E, R>>
  /** Records an unexpected failure or defect in the object's status. Its own failures are only logged. */
  readonly onFailure: (object: KubeObject, cause: Cause.Cause<E>) => Effect.Effect<void, F, R>
  readonly retry?: InformerOptions["retry"]
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

    const start = (object: KubeObject, initial: boolean) => {
      const uid = object.metadata.uid
      if (uid === undefined || FiberMap.unsafeHas(fibers, uid)) return Effect.void
      return Option.match(controller.reconcile(object, { initial, limited }), {
        onNone: () => Effect.void,
        onSome: (work) =>
          FiberMap.run(fibers, uid, supervised(object, work), { onlyIfMissing: true }).pipe(Effect.asVoid)
      })
    }

    const handle = (event: ResourceEvent): Effect.Effect<void, never, R> => {
      switch (event._tag) {
        case "Listed": {
          const present = new Set(event.objects.flatMap((object) => object.metadata.uid ?? []))
          // Deleted while the watch was down: stop their work as a DELETED event would have.
          const gone = [...fibers].map(([uid]) => uid).filter((uid) => !present.has(uid))
          return Effect.forEach(gone, (uid) => FiberMap.remove(fibers, uid), { discard: true }).pipe(
            Effect.zipRight(Effect.forEach(event.objects, (object) => start(object, event.initial), { discard: true }))
          )
        }
        case "Upserted":
          return start(event.object, false)
        case "Deleted":
          return event.object.metadata.uid === undefined
            ? Effect.void
            : FiberMap.remove(fibers, event.object.metadata.uid)
      }
    }

    return yield* runInformer(
      {
        gvr: controller.gvr,
        namespace: controller.namespace,
        ...(controller.retry === undefined ? {} : { retry: controller.retry })
      },
      handle
    ).pipe(Effect.annotateLogs({ controller: controller.name }))
  })
