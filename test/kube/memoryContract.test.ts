import { Effect } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import { kubeClientContract } from "../contract/kubeClient.ts"

let namespaces = 0

kubeClientContract("Memory", {
  layer: MemoryKube.layer,
  compact: Effect.flatMap(MemoryKube.MemoryKube, (control) => control.compact()),
  uniqueNamespace: () => `contract-${++namespaces}`
})
