// The CLI's handlers on fake services: the in-memory API server with Ark's CRDs installed, an
// in-memory object store that records what is done to it, a terminal with scripted keys, and a
// console whose output the test reads back.
import * as zlib from "node:zlib"

import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Terminal from "@effect/platform/Terminal"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import type { Console } from "effect"
import { Effect, Layer, Mailbox, Option, Stream } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import * as MemoryObjectStore from "../../layers/objectstore/Memory.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { ObjectStore } from "../../services/ObjectStore.ts"
import { ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import { kindList } from "../../src/api/index.ts"
import { customResourceDefinition } from "../../src/api/manifests/crd.ts"
import { CliError } from "../../src/cli/errors.ts"

export const serverNamespace = "heptio-ark"

const crdGvr = { group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions" }
const namespacesGvr = { group: "", version: "v1", resource: "namespaces" }

export interface Harness {
  readonly kube: KubeClient.Shape
  readonly control: MemoryKube.MemoryKubeControl
  /** The one bucket every location opens. */
  readonly store: ObjectStore.Shape
  /** `delete <key>`, `put <key>`, in call order. */
  readonly storeCalls: Array<string>
  /** Everything printed: console lines, and what went to the terminal's display. */
  readonly stdout: Array<string>
  readonly stderr: Array<string>
  readonly displayed: Array<string>
  /** The locations `forLocation` was asked for, by name. */
  readonly openedLocations: Array<string>
  readonly layer: Layer.Layer<HarnessServices>
}

export type HarnessServices = KubeClient | ObjectStoreProvider | Terminal.Terminal | FileSystem.FileSystem | Path.Path

export interface HarnessOptions {
  readonly tty?: boolean
  /** Keys the terminal "types", for prompts. */
  readonly keys?: ReadonlyArray<string>
}

const recording = (store: ObjectStore.Shape, calls: Array<string>): ObjectStore.Shape => ({
  ...store,
  put: (key, body) => Effect.sync(() => calls.push(`put ${key}`)).pipe(Effect.zipRight(store.put(key, body))),
  delete: (key) => Effect.sync(() => calls.push(`delete ${key}`)).pipe(Effect.zipRight(store.delete(key)))
})

const key = (name: string) => ({ name, ctrl: false, meta: false, shift: false })

const fakeTerminal = (options: HarnessOptions, displayed: Array<string>): Terminal.Terminal =>
  Terminal.Terminal.of({
    columns: Effect.succeed(100),
    rows: Effect.succeed(40),
    isTTY: Effect.succeed(options.tty ?? false),
    readInput: Effect.gen(function*() {
      const mailbox = yield* Mailbox.make<Terminal.UserInput>()
      for (const typed of options.keys ?? []) {
        mailbox.unsafeOffer({ input: typed === "enter" ? Option.none() : Option.some(typed), key: key(typed) })
      }
      return mailbox
    }),
    readLine: Effect.succeed(""),
    display: (text) => Effect.sync(() => void displayed.push(text))
  })

/** A fresh fake cluster (Ark's CRDs and the server namespace in place) and a fresh bucket. */
export const makeHarness = (options: HarnessOptions = {}) =>
  Effect.gen(function*() {
    const { client: kube, control } = yield* MemoryKube.make
    for (const info of kindList) yield* kube.create(crdGvr, customResourceDefinition(info) as KubeObject)
    yield* kube.create(namespacesGvr, { apiVersion: "v1", kind: "Namespace", metadata: { name: serverNamespace } })
    const storeCalls: Array<string> = []
    const store = recording(yield* MemoryObjectStore.make({ bucket: "ark" }), storeCalls)
    const openedLocations: Array<string> = []
    const provider: ObjectStoreProvider.Shape = {
      forLocation: (location) =>
        Effect.sync(() => void openedLocations.push(location.metadata.name ?? "")).pipe(Effect.as(store))
    }
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    const displayed: Array<string> = []
    const layer = Layer.mergeAll(
      Layer.succeed(KubeClient, kube),
      Layer.succeed(ObjectStoreProvider, provider),
      Layer.succeed(Terminal.Terminal, fakeTerminal(options, displayed)),
      NodeFileSystem.layer,
      NodePath.layer
    )
    const harness: Harness = { kube, control, store, storeCalls, stdout, stderr, displayed, openedLocations, layer }
    return harness
  }).pipe(Effect.orDie)

/** Runs a handler on the harness with its console captured. */
export const run = <A, E>(
  harness: Harness,
  handler: Effect.Effect<A, E, HarnessServices>
): Effect.Effect<A, E> =>
  Effect.gen(function*() {
    const base = yield* Effect.console
    const captured: Console.Console = {
      ...base,
      log: (...args) => Effect.sync(() => void harness.stdout.push(...args.map(String).join(" ").split("\n"))),
      error: (...args) => Effect.sync(() => void harness.stderr.push(...args.map(String).join(" ").split("\n")))
    }
    return yield* handler.pipe(Effect.withConsole(captured), Effect.provide(harness.layer))
  })

/** The failure of a handler that must fail with a CliError. */
export const cliFailure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.flip,
    Effect.flatMap((error) =>
      error instanceof CliError ? Effect.succeed(error) : Effect.dieMessage(`expected a CliError, got ${String(error)}`)
    )
  )

export const gzip = (text: string): Uint8Array => new Uint8Array(zlib.gzipSync(Buffer.from(text)))

export const putObject = (store: ObjectStore.Shape, objectKey: string, bytes: Uint8Array) =>
  store.put(objectKey, Stream.make(bytes))

export const backupsGvr = { group: "ark.heptio.com", version: "v1", resource: "backups" }
export const locationsGvr = { group: "ark.heptio.com", version: "v1", resource: "backupstoragelocations" }
export const schedulesGvr = { group: "ark.heptio.com", version: "v1", resource: "schedules" }
