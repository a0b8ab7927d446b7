import { Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"

import { group, version as apiVersion } from "../../api/group.ts"
import { arkVersion } from "../../version.ts"
import { connection } from "../options.ts"

export { arkVersion }

export const versionCommand = Command.make(
  "version",
  {
    clientOnly: Options.boolean("client-only").pipe(Options.withDescription("only the client's version; no cluster")),
    ...connection
  },
  (args) =>
    Effect.gen(function*() {
      yield* Console.log(`ark ${arkVersion}\nAPI ${group}/${apiVersion}\nnode ${process.versions.node}`)
      if (args.clientOnly) return
      // Loaded only when asked for: the Kubernetes client is most of the CLI's start-up.
      const { serverVersionLine } = yield* Effect.promise(() => import("../serverVersion.ts"))
      yield* Console.log(yield* serverVersionLine(args))
    })
).pipe(Command.withDescription("Print Ark's version, and the server's when a cluster is reachable"))
