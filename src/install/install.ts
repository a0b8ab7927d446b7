// `ark install`: plan (every flag checked, nothing touched), then print the plan (--dry-run) or
// apply it to the cluster.
import type { Layer } from "effect"
import { Console, Effect, Option } from "effect"

import type { KubeClient, KubeObject } from "../../services/KubeClient.ts"
import { toYaml } from "../api/manifests/yaml.ts"
import { CliError } from "../cli/errors.ts"
import { renderDocument } from "../cli/render.ts"
import { applyInstall } from "./apply.ts"
import type { InstallFlags } from "./plan.ts"
import { planInstall } from "./plan.ts"
import { describeObject } from "./resources.ts"

export interface InstallArgs extends InstallFlags {
  readonly dryRun: boolean
  readonly output: Option.Option<"yaml" | "json">
}

/**
 * The manifests as documents `kubectl apply -f -` takes. The Secret is printed with its content,
 * base64 as the API stores it (as `kubectl create secret --dry-run=client -o yaml` and Velero do):
 * the user asked for an applicable manifest, and one without the credentials would not be.
 */
export const renderManifests = (objects: ReadonlyArray<KubeObject>, format: "yaml" | "json"): string =>
  format === "json"
    ? renderDocument("json", objects, false)
    : objects.map((object) => toYaml(object).trimEnd()).join("\n---\n")

/** The dry run's summary: what would be applied, one line each, never a Secret's content. */
export const renderPlan = (objects: ReadonlyArray<KubeObject>): string =>
  [
    ...objects.map((object) => `${describeObject(object)}${object.kind === "Secret" ? " (content not shown)" : ""}`),
    "Dry run: nothing was applied. `ark install --dry-run -o yaml` prints the manifests."
  ].join("\n")

export const install = Effect.fn("Cli.install")(
  function*(args: InstallArgs, cluster: Layer.Layer<KubeClient, CliError>) {
    if (Option.isSome(args.output) && !args.dryRun) {
      return yield* new CliError({
        message: "-o prints the manifests instead of applying them: it needs --dry-run",
        hint: `ark install --dry-run -o ${args.output.value}`
      })
    }
    const objects = yield* planInstall(args)
    if (args.dryRun) {
      return yield* Console.log(Option.match(args.output, {
        onNone: () => renderPlan(objects),
        onSome: (format) => renderManifests(objects, format)
      }))
    }
    yield* applyInstall(objects).pipe(Effect.provide(cluster))
    yield* Console.log(
      `Ark is installed in namespace ${args.namespace}. The server's logs: kubectl logs deployment/ark -n ${args.namespace}`
    )
  }
)
