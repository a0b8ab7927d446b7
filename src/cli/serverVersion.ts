// The server line of `ark version`: read from the leader lease (src/server/status.ts), within a
// short deadline, so an unreachable cluster costs seconds and a note, not a hang or a failure.
import { Duration, Effect, Option } from "effect"

import type { ServerStatus } from "../server/status.ts"
import { readServerStatus } from "../server/status.ts"
import type { Connection } from "./wiring.ts"
import { clusterLayer } from "./wiring.ts"

const deadline = Duration.seconds(5)

const describe = (status: ServerStatus, namespace: string) => {
  switch (status._tag) {
    case "Running":
      return `server ${Option.getOrElse(status.version, () => "(version not published)")} (namespace ${namespace})`
    case "Stopped":
      return `server: not running in namespace ${namespace}${
        Option.match(status.version, { onNone: () => "", onSome: (version) => ` (the last one was ${version})` })
      }`
    case "NeverRan":
      return `server: no Ark server has run in namespace ${namespace}`
  }
}

export const serverVersionLine = (args: Connection & { readonly namespace: string }) =>
  readServerStatus(args.namespace).pipe(
    Effect.map((status) => describe(status, args.namespace)),
    Effect.timeoutFail({
      duration: deadline,
      onTimeout: () => ({ message: `no answer within ${Duration.format(deadline)}` })
    }),
    Effect.catchAll((error) => Effect.succeed(`server: could not be reached: ${error.message}`)),
    Effect.provide(clusterLayer(args))
  )
