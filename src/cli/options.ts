import { Options } from "@effect/cli"
import { Option } from "effect"

/** A comma-separated list flag such as `--include-namespaces a,b`; empty when absent. */
export const csv = (name: string, description: string) =>
  Options.text(name).pipe(
    Options.withDescription(description),
    Options.optional,
    Options.map((value) =>
      Option.match(value, {
        onNone: (): ReadonlyArray<string> => [],
        onSome: (text) => text.split(",").map((part) => part.trim()).filter((part) => part.length > 0)
      })
    )
  )

/** A `--flag=true|false` tri-state: None when the user did not say. */
export const triState = (name: string, description: string) =>
  Options.choice(name, ["true", "false"]).pipe(
    Options.withDescription(description),
    Options.optional,
    Options.map((value) => Option.map(value, (text) => text === "true"))
  )

/** Where to find the cluster and Ark's server namespace; every command that talks to the cluster takes them. */
export const connection = {
  kubeconfig: Options.file("kubeconfig").pipe(
    Options.withDescription("path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)"),
    Options.optional
  ),
  namespace: Options.text("namespace").pipe(
    Options.withAlias("n"),
    Options.withDescription("the namespace Ark's server runs in"),
    Options.withDefault("heptio-ark")
  )
}

export const output = Options.choice("output", ["table", "json", "yaml"]).pipe(
  Options.withAlias("o"),
  Options.withDescription("output format"),
  Options.withDefault("table")
)

export const wait = Options.boolean("wait").pipe(
  Options.withAlias("w"),
  Options.withDescription("wait for the operation to finish, showing progress; exit non-zero unless it completes")
)

/** The resource filters shared by backups, schedules and restores. */
export const resourceFilters = {
  includeNamespaces: csv("include-namespaces", "namespaces to include (default: all, '*')"),
  excludeNamespaces: csv("exclude-namespaces", "namespaces to exclude"),
  includeResources: csv("include-resources", "resources to include, e.g. pods,deployments.apps (default: all, '*')"),
  excludeResources: csv("exclude-resources", "resources to exclude"),
  selector: Options.text("selector").pipe(
    Options.withAlias("l"),
    Options.withDescription("only objects whose labels match this selector, e.g. app=web,tier!=cache"),
    Options.optional
  ),
  includeClusterResources: triState(
    "include-cluster-resources",
    "include cluster-scoped resources (unset: all of them when all namespaces are included, else only related PVs and CRDs)"
  )
}

/** The flags that describe a backup, shared by `backup create` and `schedule create`. */
export const backupSpec = {
  ...resourceFilters,
  orSelector: Options.text("or-selector").pipe(
    Options.withDescription("only objects matching any of these selectors, e.g. 'app=web or tier=cache' (not with -l)"),
    Options.optional
  ),
  snapshotVolumes: triState("snapshot-volumes", "take snapshots of persistent volumes (default true)"),
  ttl: Options.text("ttl").pipe(
    Options.withDescription("how long to keep the backup, as a duration such as 72h or 1h30m (default 720h)"),
    Options.optional
  ),
  storageLocation: Options.text("storage-location").pipe(
    Options.withDescription("the BackupStorageLocation to write to (default: 'default')"),
    Options.optional
  ),
  volumeSnapshotLocations: csv("volume-snapshot-locations", "the VolumeSnapshotLocations to snapshot volumes with")
}

/** `--confirm` of every delete: skip the y/N question. */
export const confirm = Options.boolean("confirm").pipe(Options.withDescription("do not ask for confirmation"))
