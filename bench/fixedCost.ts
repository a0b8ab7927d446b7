// `npm run bench -- fixed`: what a backup costs beyond reading its objects. Backs up a namespace of
// 10 ConfigMaps a few times to a filesystem store and to S3 (MinIO) with a tracer that records every
// span, and prints where the time of the last (warm) run went, one line per step.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

import type { Context, Exit } from "effect"
import { Config, Effect, Layer, Option, Stream, Tracer } from "effect"

import * as KubeLive from "../layers/kube/Live.ts"
import * as FilesystemStore from "../layers/objectstore/Filesystem.ts"
import type { GroupVersionResource } from "../services/KubeClient.ts"
import { KubeClient } from "../services/KubeClient.ts"
import type { ObjectStore } from "../services/ObjectStore.ts"
import { backupOnce } from "./backupOnce.ts"
import { minioStore } from "./minio.ts"

interface Recorded {
  readonly name: string
  readonly parent: string | undefined
  readonly key: unknown
  readonly start: bigint
  end: bigint | undefined
}

/** A tracer that keeps every span in `spans`, so one run can be broken down afterwards. */
const recordingTracer = (spans: Array<Recorded>): Tracer.Tracer =>
  Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const spanId = `${spans.length}`
      const recorded: Recorded = {
        name,
        parent: Option.getOrUndefined(Option.map(parent, (span) => span.spanId)),
        key: undefined,
        start: startTime,
        end: undefined
      }
      const attributes = new Map<string, unknown>()
      let status: Tracer.SpanStatus = { _tag: "Started", startTime }
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId,
        traceId: "fixed-cost",
        parent,
        context: context as Context.Context<never>,
        get status() {
          return status
        },
        attributes,
        links,
        sampled: true,
        kind,
        end: (endTime: bigint, exit: Exit.Exit<unknown, unknown>) => {
          recorded.end = endTime
          status = { _tag: "Ended", startTime, endTime, exit }
        },
        attribute: (key, value) => void attributes.set(key, value),
        event: () => undefined,
        addLinks: () => undefined
      }
      spans.push(recorded)
      return span
    },
    context: (f) => f()
  })

const configMaps: GroupVersionResource = { group: "", version: "v1", resource: "configmaps" }
const namespaces: GroupVersionResource = { group: "", version: "v1", resource: "namespaces" }
const namespace = "bench-fixed"

const seed = Effect.gen(function*() {
  const kube = yield* KubeClient
  yield* kube.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }).pipe(
    Effect.catchTag("KubeAlreadyExists", () => Effect.void)
  )
  yield* Effect.forEach(
    Array.from({ length: 10 }, (_, index) => index),
    (index) =>
      kube.create(configMaps, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `cm-${index}`, namespace },
        data: { payload: "x".repeat(1000) }
      }).pipe(Effect.catchTag("KubeAlreadyExists", () => Effect.void)),
    { concurrency: 10, discard: true }
  )
})

/** Counts list requests (pages) by wrapping the client; a list is one round trip per page. */
const countingKube = (pages: { count: number }) =>
  Layer.effect(
    KubeClient,
    Effect.map(KubeClient, (kube): KubeClient.Shape => ({
      ...kube,
      listPages: (gvr, options) => kube.listPages(gvr, options).pipe(Stream.tap(() => Effect.sync(() => pages.count++)))
    }))
  )

const millis = (from: bigint, to: bigint | undefined) => Number((to ?? from) - from) / 1e6

/** The steps of the last Backup.run: its direct children and their children, in start order. */
const breakdown = (spans: ReadonlyArray<Recorded>, pages: number) => {
  const ids = new Map(spans.map((span, index) => [span, `${index}`]))
  const run = spans.findLast((span) => span.name === "Backup.run")
  if (run === undefined) return "no Backup.run span"
  const runId = ids.get(run)
  const lines = [`Backup.run ${millis(run.start, run.end).toFixed(1)} ms, ${pages} list pages`]
  const childrenOf = (id: string | undefined) => spans.filter((span) => span.parent === id)
  for (const child of childrenOf(runId)) {
    lines.push(
      `  +${millis(run.start, child.start).toFixed(1).padStart(6)}  ${child.name.padEnd(28)} ${
        millis(child.start, child.end).toFixed(1)
      } ms`
    )
    for (const grandchild of childrenOf(ids.get(child))) {
      lines.push(
        `  +${millis(run.start, grandchild.start).toFixed(1).padStart(6)}    ${grandchild.name.padEnd(26)} ${
          millis(grandchild.start, grandchild.end).toFixed(1)
        } ms`
      )
    }
  }
  return lines.join("\n")
}

const runs = 5

const measureTo = (label: string, store: Layer.Layer<ObjectStore>) =>
  Effect.gen(function*() {
    const totals: Array<number> = []
    let report = ""
    for (let index = 0; index < runs; index++) {
      const spans: Array<Recorded> = []
      const pages = { count: 0 }
      const start = performance.now()
      yield* backupOnce(namespace, `fixed-${label}-${process.pid}-${index}`).pipe(
        Effect.provide(Layer.merge(store, countingKube(pages))),
        Effect.withTracer(recordingTracer(spans))
      )
      totals.push(performance.now() - start)
      report = breakdown(spans, pages.count)
    }
    console.log(`to ${label}: ${totals.map((ms) => ms.toFixed(0)).join(", ")} ms; the last run:\n${report}`)
  })

const s3Layer = minioStore(`bench-fixed-${process.pid}`)

export const benchFixedCost = (_sizes: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    yield* seed
    const root = mkdtempSync(join(tmpdir(), "ark-bench-fixed-"))
    yield* measureTo("filesystem", FilesystemStore.layer({ root }))
    yield* measureTo("S3", s3Layer)
    rmSync(root, { recursive: true, force: true })
  }).pipe(
    Effect.provide(
      Layer.unwrapEffect(
        Config.string("KUBECONFIG").pipe(Effect.map((kubeconfigPath) => KubeLive.layer({ kubeconfigPath })))
      )
    ),
    Effect.orDie
  )
