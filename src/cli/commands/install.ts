import { Command, Options } from "@effect/cli"

import { lazily } from "../lazy.ts"
import { configOption } from "../locationConfig.ts"
import { connection } from "../options.ts"
import { clusterLayer } from "../wiring.ts"

export const installCommand = Command.make(
  "install",
  {
    ...connection,
    dryRun: Options.boolean("dry-run").pipe(
      Options.withDescription("show what would be installed instead of installing it")
    ),
    output: Options.choice("output", ["yaml", "json"]).pipe(
      Options.withAlias("o"),
      Options.withDescription("with --dry-run: print the manifests (Secret included) for kubectl apply -f -"),
      Options.optional
    ),
    restoreOnly: Options.boolean("restore-only").pipe(
      Options.withDescription("install the server in restore-only mode, without the rights only backups need")
    ),
    image: Options.text("image").pipe(
      Options.withDescription("the server image (default: ark:<version>)"),
      Options.optional
    ),
    // Free text, checked by install itself, so a typo gets one clear line and a hint.
    provider: Options.text("provider").pipe(
      Options.withDescription("with --bucket: aws (any S3-compatible store) or filesystem"),
      Options.optional
    ),
    bucket: Options.text("bucket").pipe(
      Options.withDescription("create the BackupStorageLocation 'default' on this bucket"),
      Options.optional
    ),
    prefix: Options.text("prefix").pipe(Options.withDescription("a key prefix inside the bucket"), Options.optional),
    config: configOption("location settings as k=v[,k=v], e.g. region=us-east-1,s3ForcePathStyle=true"),
    secretFile: Options.file("secret-file").pipe(
      Options.withDescription("an AWS shared-credentials file to store as the Secret cloud-credentials (key cloud)"),
      Options.optional
    )
  },
  (args) => lazily(() => import("../../install/install.ts"), (m) => m.install(args, clusterLayer(args)))
).pipe(Command.withDescription("Install Ark's CRDs, RBAC and server Deployment into the cluster"))
