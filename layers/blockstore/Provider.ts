// The live BlockStoreProvider: `aws` VolumeSnapshotLocations become EBS stores (AWS or an
// EC2-compatible endpoint), `local` ones directory snapshot stores. Credentials are read the way
// the ObjectStoreProvider reads them: a Secret in the server namespace, else the default chain.
import { Effect, Layer, Option, Scope } from "effect"

import type { BlockStore } from "../../services/BlockStore.ts"
import type { SnapshotLocation } from "../../services/BlockStoreProvider.ts"
import { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { LocationError } from "../../services/ObjectStoreProvider.ts"
import type { ResolvedCredential } from "../objectstore/Provider.ts"
import { readAwsCredential } from "../objectstore/Provider.ts"
import * as EbsBlockStore from "./Ebs.ts"
import * as LocalBlockStore from "./Local.ts"

/** Supported `config` keys per provider: anything else is a typo worth failing on. */
const knownConfig: Record<string, ReadonlySet<string>> = {
  aws: new Set(["region", "ec2Url", "profile"]),
  local: new Set(["path"])
}

const locationName = (location: SnapshotLocation): string =>
  `${location.metadata.namespace ?? ""}/${location.metadata.name ?? ""}`

export const make = Effect.gen(function*() {
  const kube = yield* KubeClient
  const scope = yield* Effect.scope
  const cache = new Map<string, { readonly key: string; readonly store: BlockStore.Shape }>()
  const lock = yield* Effect.makeSemaphore(1)

  const fail = (location: SnapshotLocation, message: string) =>
    new LocationError({ location: locationName(location), message })

  const checkConfig = (location: SnapshotLocation): Effect.Effect<void, LocationError> => {
    const known = knownConfig[location.spec.provider]
    if (known === undefined) {
      return Effect.fail(
        fail(location, `unknown provider ${JSON.stringify(location.spec.provider)}: expected aws or local`)
      )
    }
    const unknown = Object.keys(location.spec.config ?? {}).filter((key) => !known.has(key))
    return unknown.length === 0
      ? Effect.void
      : Effect.fail(
        fail(location, `unknown config key(s) for provider ${location.spec.provider}: ${unknown.join(", ")}`)
      )
  }

  const ebsStore = Effect.fn("BlockStoreProvider.aws")(
    function*(location: SnapshotLocation, credential: ResolvedCredential) {
      const config = location.spec.config ?? {}
      const region = config["region"]
      if (region === undefined || region === "") {
        return yield* fail(location, "provider aws needs config.region, the region of the volumes")
      }
      const ec2Url = config["ec2Url"]
      if (ec2Url !== undefined) {
        const url = URL.canParse(ec2Url) ? new URL(ec2Url) : undefined
        if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
          return yield* fail(location, `config.ec2Url ${JSON.stringify(ec2Url)} is not an http(s) URL`)
        }
      }
      const settings: EbsBlockStore.EbsConfig = {
        region,
        ...(ec2Url === undefined ? {} : { ec2Url }),
        ...Option.match(credential.credentials, { onNone: () => ({}), onSome: (credentials) => ({ credentials }) })
      }
      // Clients live as long as the provider: a backup may still be using one after the location changes.
      return yield* EbsBlockStore.make(settings).pipe(Scope.extend(scope))
    }
  )

  const localStore = Effect.fn("BlockStoreProvider.local")(function*(location: SnapshotLocation) {
    const root = location.spec.config?.["path"]
    if (root === undefined || root === "") {
      return yield* fail(location, "provider local needs config.path, the directory that holds the snapshots")
    }
    return yield* LocalBlockStore.make({ root })
  })

  const forLocation = (location: SnapshotLocation): Effect.Effect<BlockStore.Shape, LocationError> =>
    Effect.gen(function*() {
      yield* checkConfig(location)
      const credential: ResolvedCredential = location.spec.provider === "aws"
        ? yield* readAwsCredential(kube, location)
        : { credentials: Option.none(), version: "none" }
      const id = location.metadata.uid ?? locationName(location)
      const key = `${location.metadata.generation ?? ""}/${credential.version}`
      return yield* lock.withPermits(1)(Effect.gen(function*() {
        const cached = cache.get(id)
        if (cached !== undefined && cached.key === key) return cached.store
        const store = location.spec.provider === "aws"
          ? yield* ebsStore(location, credential)
          : yield* localStore(location)
        cache.set(id, { key, store })
        return store
      }))
    })

  return { forLocation } satisfies BlockStoreProvider.Shape
})

export const layer: Layer.Layer<BlockStoreProvider, never, KubeClient> = Layer.scoped(BlockStoreProvider, make)
