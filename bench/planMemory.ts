// `scripts/with-node node --expose-gc bench/planMemory.ts [items]`: the heap a restore plan keeps per
// object of the backup (ConfigMaps and Secrets of ~1 KiB with uids, as `scale` seeds), measured as
// the live heap after a full collection before and after planning. No cluster is needed.
import { Effect, Either, Stream } from "effect"

import type { ApiResource } from "../services/KubeClient.ts"
import { parseEntryPath, resourceEntryPath } from "../src/archive/layout.ts"
import type { ArchiveEntry } from "../src/archive/reader.ts"
import { defaultRestoreActions } from "../src/restore/actions.ts"
import { makeRestoreSelection } from "../src/restore/filters.ts"
import { planRestore } from "../src/restore/plan.ts"

const count = Number(process.argv[2] ?? 100_000)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with node --expose-gc")

const resource = (name: string, kind: string): ApiResource => ({
  group: "",
  version: "v1",
  resource: name,
  kind,
  namespaced: true,
  verbs: ["list", "create"],
  shortNames: [],
  singularName: "",
  statusSubresource: false
})
const kinds = [resource("configmaps", "ConfigMap"), resource("secrets", "Secret")]
const encoder = new TextEncoder()

const entries = function*(): Generator<ArchiveEntry> {
  for (let index = 0; index < count; index++) {
    const { kind, resource: groupResource } = kinds[index % 2]!
    const name = `${groupResource}-${index}`
    const path = resourceEntryPath(groupResource, "bench", name)
    const object = {
      apiVersion: "v1",
      kind,
      metadata: { name, namespace: "bench", uid: crypto.randomUUID(), labels: { bench: "ark" } },
      data: { payload: "x".repeat(1000) }
    }
    yield { path, location: Either.getOrThrow(parseEntryPath(path)), data: encoder.encode(JSON.stringify(object)) }
  }
}

const selection = Either.getOrThrow(
  makeRestoreSelection({ backupName: "bench", restorePVs: true, existingResourcePolicy: "none" }, kinds)
)
gc()
const before = process.memoryUsage().heapUsed
const plan = await Effect.runPromise(
  planRestore(Stream.fromIterable({ [Symbol.iterator]: entries }), selection, defaultRestoreActions)
)
gc()
const retained = process.memoryUsage().heapUsed - before
console.log(
  `${plan.items.length} planned items: ${(retained / plan.items.length).toFixed(0)} B per item, ` +
    `${(retained / 2 ** 20).toFixed(1)} MiB in all`
)
