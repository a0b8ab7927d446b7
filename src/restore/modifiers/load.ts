// The Restore's resourceModifier reference resolved: its ConfigMap, read from the Restore's own
// namespace (the server namespace, as Velero's), and parsed. The CLI, the controller's validation
// and the restore itself all go through here, so they refuse the same rules the same way.
import { Effect, Either, Option } from "effect"

import type { GroupVersionResource } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import type { RestoreSpec } from "../../api/restore.ts"
import type { ResourceModifiers } from "./rules.ts"
import { resourceModifiersOf } from "./rules.ts"

const configMaps: GroupVersionResource = { group: "", version: "v1", resource: "configmaps" }

type Loaded = Either.Either<Option.Option<ResourceModifiers>, ReadonlyArray<string>>

/** None without a reference; Left: every problem, as `resourceModifier: ...` validation errors. */
export const loadResourceModifiers = Effect.fn("Restore.loadResourceModifiers")(
  function*(spec: Pick<RestoreSpec, "resourceModifier">, namespace: string) {
    const reference = spec.resourceModifier
    if (reference === undefined) return Either.right(Option.none()) as Loaded
    if (reference.kind.toLowerCase() !== "configmap") {
      return Either.left([`resourceModifier: kind "${reference.kind}" is not supported (only ConfigMap)`]) as Loaded
    }
    const where = `resourceModifier: ConfigMap "${reference.name}" in namespace ${namespace}`
    const kube = yield* KubeClient
    const configMap = yield* kube.get(configMaps, reference.name, namespace).pipe(
      Effect.map((object) => Option.some(object)),
      Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.none()))
    )
    if (Option.isNone(configMap)) return Either.left([`${where} does not exist`]) as Loaded
    return Either.mapBoth(resourceModifiersOf(configMap.value), {
      onLeft: (problems) => problems.map((problem) => `${where}: ${problem}`),
      onRight: (modifiers) => Option.some(modifiers)
    }) as Loaded
  }
)
