import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { notYetDelivered } from "../errors.ts"
import { connection } from "../options.ts"

export const installCommand = Command.make(
  "install",
  {
    ...connection,
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("print the manifests instead of applying them")),
    output: Options.choice("output", ["yaml", "json"]).pipe(Options.withAlias("o"), Options.withDefault("yaml")),
    restoreOnly: Options.boolean("restore-only").pipe(Options.withDescription("install the server in restore-only mode")),
    provider: Options.choice("provider", ["aws", "filesystem"]).pipe(Options.optional),
    bucket: Options.text("bucket").pipe(Options.optional),
    prefix: Options.text("prefix").pipe(Options.optional),
    config: Options.keyValueMap("config").pipe(Options.optional),
    secretFile: Options.file("secret-file").pipe(
      Options.withDescription("an AWS shared-credentials file to store as the cloud-credentials Secret"),
      Options.optional
    )
  },
  () => Effect.fail(notYetDelivered("ark install", "server"))
).pipe(Command.withDescription("Install Ark's CRDs, RBAC and server Deployment into the cluster"))
