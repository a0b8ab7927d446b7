// Applying resource modifiers to one object, as Velero does: after every item action, before
// Ark's labels, every rule is matched against the object as the actions left it, but with the
// namespace it was backed up in (Velero's modifiers run before the namespace is remapped), and
// the patches of the rules that match apply in order, each to the result of the one before. A
// JSON Patch whose `test` fails leaves the object as it was, as Velero's does.
import { Either } from "effect"

import type { KubeObject } from "../../../services/KubeClient.ts"
import type { JsonRecord } from "../../kube/json.ts"
import { matchesLabels } from "../../kube/labelSelector.ts"
import { applyJsonPatch, applyMergePatch } from "../../kube/patch.ts"
import { applyStrategicMergePatch } from "../../kube/strategicPatch.ts"
import type { ModifierRule, ResourceModifiers, RulePatch } from "./rules.ts"

/**
 * Whether the rule's conditions hold for this object of this group-resource (`deployments.apps`,
 * `pods`) backed up in `namespace` (`""` when cluster-scoped).
 */
export const ruleMatches = (
  rule: ModifierRule,
  groupResource: string,
  object: KubeObject,
  namespace: string
): boolean => {
  if (namespace !== "" && rule.namespaces.length > 0 && !rule.namespaces.some((glob) => glob.test(namespace))) {
    return false
  }
  if (!rule.groupResource.test(groupResource)) return false
  if (rule.resourceName !== undefined && !rule.resourceName.test(object.metadata.name ?? "")) return false
  if (rule.labels !== undefined && !matchesLabels(rule.labels, object.metadata.labels)) return false
  return rule.matches.length === 0 || Either.isRight(applyJsonPatch(object, rule.matches))
}

const applyPatch = (patch: RulePatch, object: KubeObject): Either.Either<KubeObject, string> => {
  switch (patch._tag) {
    case "JsonPatch": {
      const patched = applyJsonPatch(object, patch.operations)
      if (Either.isRight(patched)) return Either.right(patched.right as KubeObject)
      return patched.left.reason === "TestFailed" ? Either.right(object) : Either.left(patched.left.message)
    }
    case "MergePatch":
      return Either.right(
        patch.patches.reduce<JsonRecord>(
          (current, data) => applyMergePatch(current, data) as JsonRecord,
          object
        ) as KubeObject
      )
    case "StrategicPatch": {
      let current: JsonRecord = object
      for (const data of patch.patches) {
        const patched = applyStrategicMergePatch(current, data)
        if (Either.isLeft(patched)) return Either.left(patched.left)
        current = patched.right
      }
      return Either.right(current as KubeObject)
    }
  }
}

export interface Modified {
  readonly object: KubeObject
  /** The names of the rules whose patches applied. */
  readonly rules: ReadonlyArray<string>
}

/** The object after every matching rule; Left: the rule whose patch could not apply, and why. */
export const applyResourceModifiers = (
  modifiers: ResourceModifiers,
  groupResource: string,
  object: KubeObject,
  namespace: string = object.metadata.namespace ?? ""
): Either.Either<Modified, string> => {
  let current = object
  const rules: Array<string> = []
  for (const rule of modifiers.rules) {
    if (!ruleMatches(rule, groupResource, object, namespace)) continue
    const patched = applyPatch(rule.patch, current)
    if (Either.isLeft(patched)) return Either.left(`resource modifier ${rule.name} cannot be applied: ${patched.left}`)
    if (!isObject(patched.right)) {
      return Either.left(`resource modifier ${rule.name} left the object without apiVersion, kind or metadata`)
    }
    current = patched.right
    rules.push(rule.name)
  }
  return Either.right({ object: current, rules })
}

const isObject = (object: KubeObject): boolean =>
  typeof object.apiVersion === "string" && typeof object.kind === "string" && typeof object.metadata === "object" &&
  object.metadata !== null
