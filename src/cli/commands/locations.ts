import { Args, Command, Options } from "@effect/cli"

import { lazily } from "../lazy.ts"
import { configOption } from "../locationConfig.ts"
import { confirm, connection, outputFlags } from "../options.ts"
import { withCluster } from "../wiring.ts"

const markDefault = Options.boolean("default").pipe(
  Options.withDescription("make it the location backups use when they name none (unmarks the others)")
)

const config = configOption("provider settings as k=v[,k=v], e.g. region=us-east-1,s3ForcePathStyle=true")

const backupLocationCreate = Command.make(
  "create",
  {
    name: Args.text({ name: "NAME" }),
    ...connection,
    provider: Options.choice("provider", ["aws", "filesystem"]).pipe(
      Options.withDescription("aws (any S3-compatible store) or filesystem")
    ),
    bucket: Options.text("bucket").pipe(Options.withDescription("the bucket (a directory, for filesystem)")),
    prefix: Options.text("prefix").pipe(Options.withDescription("a key prefix inside the bucket"), Options.optional),
    config,
    accessMode: Options.choice("access-mode", ["ReadWrite", "ReadOnly"]).pipe(
      Options.withDescription("ReadOnly: restore from it and sync its backups, but never write to it"),
      Options.withDefault("ReadWrite")
    ),
    objectLock: Options.choice("object-lock", ["GOVERNANCE", "COMPLIANCE"]).pipe(
      Options.withDescription(
        "retain each backup's files with S3 Object Lock in this mode until its start plus its TTL (a bucket created with Object Lock)"
      ),
      Options.optional
    ),
    default: markDefault
  },
  (args) => lazily(() => import("../backup/location.ts"), (m) => m.createBackupLocation(args))
).pipe(
  Command.withDescription("Add a place where backups are stored, and check at once that its store can be reached"),
  withCluster
)

const backupLocationSet = Command.make(
  "set",
  {
    name: Args.text({ name: "NAME" }),
    ...connection,
    default: markDefault,
    config: configOption("provider settings to add or change, as k=v[,k=v]"),
    credential: Options.text("credential").pipe(
      Options.withDescription("SECRET=KEY: the Secret key (in the server namespace) holding the credentials"),
      Options.optional
    ),
    accessMode: Options.choice("access-mode", ["ReadWrite", "ReadOnly"]).pipe(
      Options.withDescription("ReadOnly: restore from it and sync its backups, but never write to it"),
      Options.optional
    )
  },
  (args) => lazily(() => import("../backup/locationChange.ts"), (m) => m.setBackupLocation(args))
).pipe(Command.withDescription("Change a backup storage location"), withCluster)

const backupLocationDelete = Command.make(
  "delete",
  { name: Args.text({ name: "NAME" }), ...connection, confirm },
  (args) => lazily(() => import("../backup/locationChange.ts"), (m) => m.deleteBackupLocation(args))
).pipe(
  Command.withDescription(
    "Delete a backup storage location and the Backup resources stored in it; their files stay in object storage"
  ),
  withCluster
)

const backupLocationGet = Command.make(
  "get",
  { name: Args.text({ name: "NAME" }).pipe(Args.optional), ...connection, ...outputFlags },
  (args) => lazily(() => import("../backup/location.ts"), (m) => m.getBackupLocations(args))
).pipe(Command.withDescription("List backup storage locations and whether they are available"), withCluster)

export const backupLocationCommand = Command.make("backup-location").pipe(
  Command.withDescription("Work with backup storage locations"),
  Command.withSubcommands([backupLocationCreate, backupLocationSet, backupLocationGet, backupLocationDelete])
)

const snapshotLocationCreate = Command.make(
  "create",
  {
    name: Args.text({ name: "NAME" }),
    ...connection,
    provider: Options.choice("provider", ["aws", "local"]).pipe(
      Options.withDescription("aws (EBS) or local (hostPath copies)")
    ),
    config
  },
  (args) => lazily(() => import("../snapshots/location.ts"), (m) => m.createSnapshotLocation(args))
).pipe(Command.withDescription("Add a place where volume snapshots are taken"), withCluster)

const snapshotLocationGet = Command.make(
  "get",
  { name: Args.text({ name: "NAME" }).pipe(Args.optional), ...connection, ...outputFlags },
  (args) => lazily(() => import("../snapshots/location.ts"), (m) => m.getSnapshotLocations(args))
).pipe(Command.withDescription("List volume snapshot locations"), withCluster)

const snapshotLocationDelete = Command.make(
  "delete",
  { name: Args.text({ name: "NAME" }), ...connection, confirm },
  (args) => lazily(() => import("../backup/locationChange.ts"), (m) => m.deleteSnapshotLocation(args))
).pipe(Command.withDescription("Delete a volume snapshot location"), withCluster)

export const snapshotLocationCommand = Command.make("snapshot-location").pipe(
  Command.withDescription("Work with volume snapshot locations"),
  Command.withSubcommands([snapshotLocationCreate, snapshotLocationGet, snapshotLocationDelete])
)
