// The live HookRunner: pods/exec through the API server (a websocket, via client-node's Exec),
// collecting stdout and stderr and reading the exit code from the final V1Status. client-node is
// imported at the first exec: most servers never run a hook, and it costs ~60 MiB loaded.
import { PassThrough, Writable } from "node:stream"

import type { KubeConfig, V1Pod, V1Status } from "@kubernetes/client-node"
import type { Duration } from "effect"
import { Data, Deferred, Effect, Either, Exit, Layer, Option } from "effect"

import type { ExecResult, ExecTarget } from "../../services/HookRunner.ts"
import { HookExecError, HookRunner, HookTimeout } from "../../services/HookRunner.ts"
import type { KubeConfigSource } from "../kube/live/kubeconfig.ts"
import { loadKubeConfig } from "../kube/live/kubeconfig.ts"

/** Hooks print status lines, not data: each stream keeps at most this much. */
export const MAX_OUTPUT_BYTES = 64 * 1024

/** What the runner uses of client-node's websocket. */
interface ExecSocket {
  readonly readyState: number
  close(): void
  terminate(): void
  on(event: "close", listener: () => void): unknown
}
const CLOSED = 3

/** A Writable keeping the first `limit` bytes and counting the rest. */
const collector = (limit: number) => {
  const chunks: Array<Buffer> = []
  let kept = 0
  let dropped = 0
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const room = limit - kept
      if (room > 0) {
        const part = chunk.length <= room ? chunk : chunk.subarray(0, room)
        chunks.push(Buffer.from(part))
        kept += part.length
      }
      dropped += Math.max(0, chunk.length - Math.max(0, room))
      callback()
    }
  })
  const text = () =>
    Buffer.concat(chunks).toString("utf8") + (dropped === 0 ? "" : `\n[${dropped} more bytes not kept]\n`)
  return { stream, text }
}

/**
 * The exit code a V1Status reports: `Success` is 0; a non-zero exit is a Failure whose causes hold
 * `{reason: "ExitCode", message: "<n>"}` (or, from some runtimes, a message ending "exit status <n>").
 * Any other Failure means the command did not run (Left).
 */
export const exitCodeOf = (status: V1Status): Either.Either<number, string> => {
  if (status.status === "Success") return Either.right(0)
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode")
  const code = cause?.message === undefined ? Number.NaN : Number.parseInt(cause.message, 10)
  if (Number.isInteger(code)) return Either.right(code)
  // Runtimes that report a non-zero exit as an internal error (kwok's local exec) end the
  // message with Go's "exit status N".
  const reported = /\bexit status (\d+)\s*$/.exec(status.message ?? "")?.[1]
  if (reported !== undefined) return Either.right(Number.parseInt(reported, 10))
  return Either.left(status.message ?? status.reason ?? "exec failed without a reason")
}

const describe = (cause: unknown): string => {
  if (typeof cause === "object" && cause !== null && "message" in cause && typeof cause.message === "string") {
    return cause.message
  }
  return String(cause)
}

class PodUnreadable extends Data.TaggedError("PodUnreadable")<{ readonly status: number | undefined }> {}

const statusCode = (cause: unknown): number | undefined =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "number"
    ? cause.code
    : undefined

/** Why an exec into `target` cannot work, from the pod itself; None when the pod looks fine. */
export const explainPod = (target: ExecTarget, pod: V1Pod): Option.Option<string> => {
  const where = `pod ${target.namespace}/${target.pod}`
  const containers = (pod.spec?.containers ?? []).map((c) => c.name)
  if (!containers.includes(target.container)) {
    return Option.some(`${where} has no container ${target.container} (it has: ${containers.join(", ") || "none"})`)
  }
  const phase = pod.status?.phase
  if (phase !== "Running") return Option.some(`${where} is ${phase ?? "not yet scheduled"}, not Running`)
  const state = pod.status?.containerStatuses?.find((c) => c.name === target.container)?.state
  if (state !== undefined && state.running === undefined) {
    return Option.some(`container ${target.container} of ${where} is not running`)
  }
  return Option.none()
}

/** What the runner uses of client-node, imported when first needed. */
const loadClientNode = Effect.promise(async () => {
  const { CoreV1Api, Exec } = await import("@kubernetes/client-node")
  const { WebSocketHandler } = await import("@kubernetes/client-node/dist/web-socket-handler.js")
  return { CoreV1Api, Exec, WebSocketHandler }
})
type ClientNode = Effect.Effect.Success<typeof loadClientNode>

export const makeFromKubeConfig = (
  kc: KubeConfig,
  { CoreV1Api, Exec, WebSocketHandler }: ClientNode
): HookRunner.Shape => {
  const core = kc.makeApiClient(CoreV1Api)

  /** Turns a failed connection into the most useful message: what is wrong with the pod, if anything. */
  const connectError = (target: ExecTarget, cause: unknown) =>
    Effect.tryPromise({
      try: () => core.readNamespacedPod({ name: target.pod, namespace: target.namespace }),
      catch: (error) => new PodUnreadable({ status: statusCode(error) })
    }).pipe(
      Effect.map((pod) => explainPod(target, pod)),
      Effect.catchTag("PodUnreadable", (error) =>
        Effect.succeed(
          error.status === 404 ? Option.some(`pod ${target.namespace}/${target.pod} not found`) : Option.none<string>()
        )),
      Effect.map((explained) =>
        new HookExecError({
          ...target,
          message: Option.getOrElse(
            explained,
            () =>
              `cannot exec in container ${target.container} of pod ${target.namespace}/${target.pod}: ${
                describe(cause)
              }`
          ),
          cause
        })
      )
    )

  const exec = Effect.fn("ExecHooks.exec")(function*(
    target: ExecTarget,
    command: ReadonlyArray<string>,
    timeout: Duration.Duration
  ) {
    const stdout = collector(MAX_OUTPUT_BYTES)
    const stderr = collector(MAX_OUTPUT_BYTES)
    const status = yield* Deferred.make<V1Status, HookExecError>()
    // Our own streams, so a close-stream frame can never touch this process's stdin or stdout.
    const handler = new WebSocketHandler(kc, undefined, {
      stdin: new PassThrough(),
      stdout: stdout.stream,
      stderr: stderr.stream
    })

    // The socket is closed whatever happens: status received, timeout or interruption.
    const open = Effect.uninterruptibleMask((restore) =>
      restore(
        Effect.tryPromise({
          try: (signal): Promise<ExecSocket> => {
            const opening = new Exec(kc, handler).exec(
              target.namespace,
              target.pod,
              target.container,
              [...command],
              stdout.stream,
              stderr.stream,
              null,
              false,
              (received) => Deferred.unsafeDone(status, Exit.succeed(received))
            )
            // Interrupted while connecting: close the socket once it exists.
            signal.addEventListener("abort", () => void opening.then((socket) => socket.terminate(), () => undefined))
            return opening
          },
          catch: (cause) => cause
        })
      ).pipe(
        Effect.catchAll((cause) => Effect.flatMap(connectError(target, cause), (error) => Effect.fail(error))),
        Effect.tap((socket) => Effect.addFinalizer(() => Effect.sync(() => socket.terminate())))
      )
    )

    const run = Effect.scoped(Effect.gen(function*() {
      const socket = yield* open
      const closedEarly = () =>
        Deferred.unsafeDone(
          status,
          Exit.fail(
            new HookExecError({ ...target, message: "the exec stream closed before the command's exit status arrived" })
          )
        )
      socket.on("close", closedEarly)
      if (socket.readyState === CLOSED) closedEarly()
      return yield* Deferred.await(status)
    }))

    const final = yield* run.pipe(
      Effect.timeoutFail({ duration: timeout, onTimeout: () => new HookTimeout({ ...target, timeout }) })
    )
    const exitCode = exitCodeOf(final)
    if (Either.isLeft(exitCode)) {
      return yield* new HookExecError({
        ...target,
        message: `exec in container ${target.container} failed: ${exitCode.left}`
      })
    }
    const result: ExecResult = { stdout: stdout.text(), stderr: stderr.text(), exitCode: exitCode.right }
    return result
  })

  return { exec }
}

/** The runner; the kubeconfig and client-node are loaded at the first exec, once. */
export const make = (config: KubeConfigSource = {}): Effect.Effect<HookRunner.Shape> =>
  Effect.map(
    Effect.cached(Effect.zipWith(loadKubeConfig(config), loadClientNode, makeFromKubeConfig)),
    (runner): HookRunner.Shape => ({
      exec: (target, command, timeout) =>
        runner.pipe(
          Effect.mapError((error) => new HookExecError({ ...target, message: error.message, cause: error })),
          Effect.flatMap((loaded) => loaded.exec(target, command, timeout))
        )
    })
  )

export const layer = (config: KubeConfigSource = {}): Layer.Layer<HookRunner> => Layer.effect(HookRunner, make(config))
