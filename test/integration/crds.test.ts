// Ark's generated CRDs on a real kube-apiserver: they apply, become Established, and every Ark
// resource round-trips through them (spec and the status subresource) without pruning.
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, FastCheck, Schema } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { KindInfo } from "../../src/api/index.ts"
import { apiVersion, group, kinds, version } from "../../src/api/index.ts"
import { applyCrds, ensureNamespace } from "./crdsApply.ts"
import { liveKube } from "./live.ts"

const testNamespace = `ark-crds-${process.pid}`

/** Deterministic samples of every kind, from the kinds' own Schema arbitraries. */
const samples = (info: KindInfo, count: number): ReadonlyArray<Record<string, unknown>> =>
  FastCheck.sample(Arbitrary.make(info.schema), { numRuns: count, seed: 20261124 }).map(
    (value) => Schema.encodeSync(info.schema)(value) as Record<string, unknown>
  )

const gvrOf = (info: KindInfo) => ({ group, version, resource: info.plural })

/** What the server stored of `sent`, minus what the server adds itself. */
const comparable = (object: Record<string, unknown>) => {
  const { metadata: _metadata, ...rest } = object
  return rest
}

describe("Ark CRDs on a real API server", () => {
  it.live(
    "apply and become Established",
    () =>
      Effect.gen(function*() {
        yield* applyCrds
        const kube = yield* KubeClient
        const discovery = yield* kube.discover
        for (const info of Object.values(kinds)) {
          const served = discovery.resources.find((resource) =>
            resource.group === group && resource.resource === info.plural
          )
          assert.isDefined(served, `${info.plural}.${group} is served`)
          assert.strictEqual(served?.kind, info.kind)
          assert.isTrue(served?.namespaced)
          assert.isTrue(served?.statusSubresource)
        }
      }).pipe(Effect.provide(liveKube()))
  )

  for (const info of Object.values(kinds)) {
    it.live(
      `every ${info.kind} round-trips through the API server`,
      () =>
        Effect.gen(function*() {
          yield* applyCrds
          const kube = yield* KubeClient
          yield* ensureNamespace(testNamespace)
          const gvr = gvrOf(info)
          const decode = Schema.decodeUnknown(info.schema)
          for (const [index, sample] of samples(info, 8).entries()) {
            const name = `${info.singular}-${index}`
            const { status, ...withoutStatus } = sample
            const sent: KubeObject = {
              ...withoutStatus,
              apiVersion,
              kind: info.kind,
              metadata: { name, namespace: testNamespace, labels: { "ark.heptio.com/test": "crds" } }
            }
            const created = yield* kube.create(gvr, sent)
            assert.deepStrictEqual(
              comparable(created),
              comparable(sent),
              `${info.kind} ${name}: the server kept the spec as sent`
            )
            yield* decode(created)

            if (status !== undefined) {
              const updated = yield* kube.updateStatus(gvr, { ...created, status })
              assert.deepStrictEqual(
                updated["status"],
                status,
                `${info.kind} ${name}: the status subresource kept the status`
              )
              yield* decode(updated)
            }
            yield* kube.delete(gvr, name, testNamespace)
          }
        }).pipe(Effect.provide(liveKube()))
    )
  }
})
