// Which hooks run in a pod (docs/design.md, "Backup semantics"): its
// `pre.hook.backup.ark.heptio.com/*` and `post.hook.backup.ark.heptio.com/*` annotations, else the
// Backup's hooks.resources that match it (namespace, resource and label filters). Annotations
// replace the spec's hooks for their phase, as in Velero.
import { Duration, Either, Option } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import type { BackupSpec } from "../api/backup.ts"
import { parseGoDuration } from "../api/duration.ts"
import { isRecord } from "../kube/json.ts"
import { fromLabelSelector, matchesLabels } from "../kube/labelSelector.ts"

export type HookPhase = "pre" | "post"
export type OnError = "Continue" | "Fail"

export const defaultHookTimeout = Duration.seconds(30)

/** One command to run in one container, resolved against the pod. */
export interface PodHook {
  /** The hooks.resources entry's name, or the annotation prefix. */
  readonly name: string
  readonly phase: HookPhase
  readonly container: string
  readonly command: ReadonlyArray<string>
  readonly onError: OnError
  readonly timeout: Duration.Duration
  /** Set when the hook cannot run as written (a container the pod does not have); it fails per onError. */
  readonly problem?: string
}

export interface PodHooks {
  readonly pre: ReadonlyArray<PodHook>
  readonly post: ReadonlyArray<PodHook>
  /** Annotation values that could not be used as written (a bad timeout): warnings. */
  readonly warnings: ReadonlyArray<string>
}

export type HookSpecs = NonNullable<NonNullable<BackupSpec["hooks"]>["resources"]>

export const annotationPrefix = (phase: HookPhase) => `${phase}.hook.backup.ark.heptio.com`

export const podContainers = (pod: KubeObject): ReadonlyArray<string> => {
  const spec = pod["spec"]
  const containers = isRecord(spec) && Array.isArray(spec["containers"]) ? spec["containers"] : []
  return containers.flatMap((container: unknown) =>
    isRecord(container) && typeof container["name"] === "string" ? [container["name"]] : []
  )
}

/** A JSON array of strings, or else the whole value as one argument (Velero's parseStringSlice). */
export const parseCommand = (value: string): ReadonlyArray<string> => {
  const trimmed = value.trim()
  if (trimmed.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(trimmed)
      if (Array.isArray(parsed) && parsed.every((part) => typeof part === "string")) return parsed
    } catch {
      // Not JSON: one argument, as written.
    }
  }
  return [value]
}

const resolve = (
  pod: KubeObject,
  fields: {
    name: string
    phase: HookPhase
    container: string | undefined
    command: ReadonlyArray<string>
    onError: OnError
    timeout: Duration.Duration
  }
): PodHook => {
  const containers = podContainers(pod)
  const container = fields.container ?? containers[0] ?? ""
  const podName = `${pod.metadata.namespace ?? ""}/${pod.metadata.name ?? ""}`
  const problem = container === ""
    ? `pod ${podName} has no containers to run the hook in`
    : !containers.includes(container)
    ? `container "${container}" not found in pod ${podName}`
    : undefined
  return { ...fields, container, ...(problem === undefined ? {} : { problem }) }
}

const fromAnnotations = (pod: KubeObject, phase: HookPhase, warnings: Array<string>): Option.Option<PodHook> => {
  const annotations = pod.metadata.annotations ?? {}
  const prefix = annotationPrefix(phase)
  const command = annotations[`${prefix}/command`]
  if (command === undefined || command.trim() === "") return Option.none()
  const onErrorValue = annotations[`${prefix}/on-error`]
  let onError: OnError = "Fail"
  if (onErrorValue === "Continue" || onErrorValue === "Fail") onError = onErrorValue
  else if (onErrorValue !== undefined) {
    warnings.push(`${prefix}/on-error: "${onErrorValue}" is not Continue or Fail; using Fail`)
  }
  const timeoutValue = annotations[`${prefix}/timeout`]
  let timeout = defaultHookTimeout
  if (timeoutValue !== undefined) {
    const parsed = parseGoDuration(timeoutValue)
    if (Option.isSome(parsed) && Duration.greaterThan(parsed.value, Duration.zero)) timeout = parsed.value
    else warnings.push(`${prefix}/timeout: "${timeoutValue}" is not a positive Go duration; using 30s`)
  }
  const container = annotations[`${prefix}/container`]
  return Option.some(resolve(pod, {
    name: prefix,
    phase,
    container: container === undefined || container === "" ? undefined : container,
    command: parseCommand(command),
    onError,
    timeout
  }))
}

const listed = (names: ReadonlyArray<string> | undefined, value: string) =>
  names !== undefined && (names.includes("*") || names.includes(value))

const podResourceNames = ["pods", "pod", "po", "*"]

/** Whether a hooks.resources entry applies to this pod. */
export const specMatchesPod = (spec: HookSpecs[number], pod: KubeObject): boolean => {
  const namespace = pod.metadata.namespace ?? ""
  const included = spec.includedNamespaces === undefined || spec.includedNamespaces.length === 0 ||
    listed(spec.includedNamespaces, namespace)
  if (!included || listed(spec.excludedNamespaces, namespace)) return false
  const resources = spec.includedResources
  if (resources !== undefined && resources.length > 0 && !resources.some((name) => podResourceNames.includes(name))) {
    return false
  }
  if ((spec.excludedResources ?? []).some((name) => podResourceNames.includes(name) && name !== "*")) return false
  if (spec.labelSelector === undefined) return true
  return Either.match(fromLabelSelector(spec.labelSelector), {
    onLeft: () => false,
    onRight: (selector) => matchesLabels(selector, pod.metadata.labels)
  })
}

const fromSpecs = (pod: KubeObject, phase: HookPhase, specs: HookSpecs): ReadonlyArray<PodHook> =>
  specs.filter((spec) => specMatchesPod(spec, pod)).flatMap((spec) =>
    (spec[phase] ?? []).map(({ exec }) =>
      resolve(pod, {
        name: spec.name,
        phase,
        container: exec.container,
        command: exec.command,
        onError: exec.onError ?? "Fail",
        timeout: exec.timeout === undefined
          ? defaultHookTimeout
          : Option.getOrElse(parseGoDuration(exec.timeout), () => defaultHookTimeout)
      })
    )
  )

/** The pod's hooks, per phase. */
export const podHooks = (pod: KubeObject, specs: HookSpecs | undefined): PodHooks => {
  const warnings: Array<string> = []
  const phase = (which: HookPhase) =>
    Option.match(fromAnnotations(pod, which, warnings), {
      onNone: () => fromSpecs(pod, which, specs ?? []),
      onSome: (hook) => [hook]
    })
  return { pre: phase("pre"), post: phase("post"), warnings }
}

export const hasHooks = (hooks: PodHooks): boolean => hooks.pre.length > 0 || hooks.post.length > 0
