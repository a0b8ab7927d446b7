// `--wait` for backups and restores: follow one resource through watch events until it finishes.
import * as Terminal from "@effect/platform/Terminal"
import { Console, Effect, Ref, Stream } from "effect"

import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { kubeFailure } from "./backup/kube.ts"
import { CliError } from "./errors.ts"
import { arkCommand } from "./namespace.ts"

/** What `followUntilFinished` needs to know of the kind it follows. */
export interface Followed<A extends { readonly metadata: { readonly resourceVersion?: string } }> {
  readonly kind: "backup" | "restore"
  readonly gvr: GroupVersionResource
  readonly decode: (object: KubeObject) => Effect.Effect<A, CliError>
  readonly isFinished: (resource: A) => boolean
  readonly progressLine: (resource: A) => string
}

/**
 * Follows one resource through watch events until it finishes, showing progress: one line per
 * change, or a single line rewritten in place on a terminal. A watch that closes or expires (410)
 * is resumed from the newest state read with a get.
 */
export const followUntilFinished = <A extends { readonly metadata: { readonly resourceVersion?: string } }>(
  followed: Followed<A>,
  initial: KubeObject,
  namespace: string
) =>
  Effect.gen(function*() {
    const { kind, gvr } = followed
    const kube = yield* KubeClient
    const terminal = yield* Terminal.Terminal
    const tty = yield* terminal.isTTY
    const name = initial.metadata.name ?? ""
    const latest = yield* Ref.make(yield* followed.decode(initial))
    const shown = yield* Ref.make("")
    const failure = (doing: string) => kubeFailure(doing, namespace)

    const show = (resource: A) =>
      Effect.gen(function*() {
        const line = followed.progressLine(resource)
        if ((yield* Ref.getAndSet(shown, line)) === line) return
        // A cosmetic line: a failed write to the terminal must not fail the wait.
        yield* tty ? terminal.display(`\r\u001b[2K${line}`).pipe(Effect.ignore) : Console.log(line)
      })

    const observe = (object: KubeObject) =>
      followed.decode(object).pipe(
        Effect.tap((resource) => Ref.set(latest, resource)),
        Effect.tap((resource) => show(resource))
      )

    const deleted = new CliError({
      message: `${kind} "${name}" was deleted while waiting for it`,
      hint: `${arkCommand(namespace, `${kind} get`)} lists the ${kind}s`
    })

    // An expired watch (410) is not a failure: the loop below resumes from a fresh get.
    const follow = (resourceVersion: string | undefined) =>
      kube.watch(gvr, { namespace, ...(resourceVersion === undefined ? {} : { resourceVersion }) }).pipe(
        Stream.filter((event) => event.type !== "BOOKMARK" && event.object.metadata.name === name),
        Stream.mapEffect((event) => (event.type === "DELETED" ? Effect.fail(deleted) : observe(event.object))),
        Stream.takeUntil((resource) => followed.isFinished(resource)),
        Stream.runDrain,
        Effect.catchTag("KubeGone", () => Effect.void),
        Effect.mapError((
          error
        ) => (error._tag === "CliError" ? error : failure(`cannot watch ${kind} "${name}"`)(error)))
      )

    const refresh = kube.get(gvr, name, namespace).pipe(
      Effect.mapError((
        error
      ) => (error._tag === "KubeNotFound" ? deleted : failure(`cannot read ${kind} "${name}"`)(error))),
      Effect.flatMap((object) => observe(object))
    )

    yield* show(yield* Ref.get(latest))
    while (!followed.isFinished(yield* Ref.get(latest))) {
      yield* follow((yield* Ref.get(latest)).metadata.resourceVersion)
      if (!followed.isFinished(yield* Ref.get(latest))) yield* refresh
    }
    if (tty) yield* terminal.display("\n").pipe(Effect.ignore)
    return yield* Ref.get(latest)
  }).pipe(
    Effect.withSpan("Cli.followUntilFinished"),
    Effect.onInterrupt(() => Console.error(`stopped waiting; the ${followed.kind} goes on in the cluster`))
  )
