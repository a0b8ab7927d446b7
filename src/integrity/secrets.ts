// The text of one key of a Secret in a location's namespace: where signing keys, verification keys,
// age recipients and age identities live.
import { Data, Effect } from "effect"

import type { KubeClient } from "../../services/KubeClient.ts"

export interface SecretRef {
  readonly name: string
  readonly key: string
}

/** The Secret or its key cannot be read; the message names both, never the value. */
export class SecretKeyUnreadable extends Data.TaggedError("SecretKeyUnreadable")<{ readonly message: string }> {}

const SECRETS = { group: "", version: "v1", resource: "secrets" } as const

export const readSecretText = (kube: KubeClient.Shape, namespace: string, ref: SecretRef) =>
  kube.get(SECRETS, ref.name, namespace).pipe(
    Effect.mapError((error) =>
      new SecretKeyUnreadable({ message: `cannot read Secret ${namespace}/${ref.name}: ${error.message}` })
    ),
    Effect.flatMap((secret) => {
      const data = secret["data"] as Record<string, unknown> | undefined
      const encoded = data?.[ref.key]
      return typeof encoded === "string"
        ? Effect.succeed(Buffer.from(encoded, "base64").toString("utf8"))
        : Effect.fail(new SecretKeyUnreadable({ message: `Secret ${namespace}/${ref.name} has no key ${ref.key}` }))
    })
  )
