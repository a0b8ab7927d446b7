import { HelpDoc, Options, ValidationError } from "@effect/cli"
import { Effect, Option } from "effect"

import { resolveNamespace } from "./client/config.ts"

/** A comma-separated list flag such as `--include-namespaces a,b`; empty when absent. */
export const csv = (name: string, description: string) =>
  Options.text(name).pipe(
    Options.withPseudoName("LIST"),
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

/** A Go duration flag such as `--ttl 72h`, typed DURATION in help; checked where it is used. */
export const duration = (name: string, description: string) =>
  Options.text(name).pipe(Options.withPseudoName("DURATION"), Options.withDescription(description))

/** Where to find the cluster and Ark's server namespace; every command that talks to the cluster takes them. */
export const connection = {
  kubeconfig: Options.file("kubeconfig").pipe(
    Options.withDescription("path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)"),
    Options.optional
  ),
  namespace: Options.text("namespace").pipe(
    Options.withAlias("n"),
    Options.withDescription(
      "the namespace Ark's server runs in (default: $ARK_NAMESPACE, else `ark client config`'s namespace, else heptio-ark)"
    ),
    Options.optional,
    // Resolved while parsing, so a bad name from any source is refused before the command runs.
    Options.mapEffect((flag) =>
      resolveNamespace(flag).pipe(
        Effect.mapError((error) =>
          ValidationError.invalidValue(
            HelpDoc.p(`error: ${error.message}${error.hint === undefined ? "" : `\nhint: ${error.hint}`}`)
          )
        )
      )
    )
  )
}

export const output = Options.choice("output", ["table", "json", "yaml"]).pipe(
  Options.withAlias("o"),
  Options.withDescription("output format"),
  Options.withDefault("table")
)

/** `-o` and `--show-managed-fields` of every `get`. */
export const outputFlags = {
  output,
  showManagedFields: Options.boolean("show-managed-fields").pipe(
    Options.withDescription("keep metadata.managedFields in -o json|yaml output")
  )
}

/** `-o` of `backup logs` and `restore logs`. */
export const logOutput = Options.choice("output", ["text", "json"]).pipe(
  Options.withAlias("o"),
  Options.withDescription("text (time, level, message, key=value fields) or json (the stored JSON lines)"),
  Options.withDefault("text")
)

export const wait = Options.boolean("wait").pipe(
  Options.withAlias("w"),
  Options.withDescription("wait for the operation to finish, showing progress; exit non-zero unless it completes")
)

/** The resource filters shared by backups, schedules and restores. */
export const resourceFilters = {
  includeNamespaces: csv("include-namespaces", "namespaces to include (default '*', all)"),
  excludeNamespaces: csv("exclude-namespaces", "namespaces to exclude"),
  includeResources: csv("include-resources", "resources to include, e.g. pods,deployments.apps (default '*', all)"),
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

/** Velero's --or-selector: objects matching any of several selectors (of backups, schedules and restores). */
export const orSelector = Options.text("or-selector").pipe(
  Options.withDescription("only objects matching any of these selectors, e.g. 'app=web or tier=cache' (not with -l)"),
  Options.optional
)

/** The flags that describe a backup, shared by `backup create` and `schedule create`. */
export const backupSpec = {
  ...resourceFilters,
  orSelector,
  snapshotVolumes: triState("snapshot-volumes", "take snapshots of persistent volumes (default true)"),
  ttl: duration("ttl", "how long to keep the backup, e.g. 72h or 1h30m (default 720h)").pipe(Options.optional),
  storageLocation: Options.text("storage-location").pipe(
    Options.withDescription("the BackupStorageLocation to write to (default: the one named default)"),
    Options.optional
  ),
  volumeSnapshotLocations: csv("volume-snapshot-locations", "the VolumeSnapshotLocations to snapshot volumes with"),
  orderedResources: Options.text("ordered-resources").pipe(
    Options.withPseudoName("ORDER"),
    Options.withDescription(
      "objects written first, in this order, within their resource: 'pods=ns1/a,ns1/b;persistentvolumes=pv1'"
    ),
    Options.optional
  )
}

/** `--confirm` of every delete: skip the y/N question. */
export const confirm = Options.boolean("confirm").pipe(Options.withDescription("do not ask for confirmation"))
