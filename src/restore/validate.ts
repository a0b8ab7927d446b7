// Every problem with a Restore against its backup at once, for status.validationErrors.
import { Either, Option } from "effect"

import type { Discovery } from "../../services/KubeClient.ts"
import type { Backup } from "../api/backup.ts"
import type { Restore } from "../api/restore.ts"
import { makeRestoreSelection, resourceFilter } from "./filters.ts"
import { namespaceMappingCollisions } from "./mapping.ts"

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

const namespaceNameProblem = (name: string): string | undefined =>
  name.length <= 63 && DNS_LABEL.test(name)
    ? undefined
    : "must be a DNS label (lowercase letters, digits and '-', at most 63)"

const includesExcludesProblems = (
  what: string,
  included: ReadonlyArray<string> | undefined,
  excluded: ReadonlyArray<string> | undefined
): Array<string> => {
  const problems: Array<string> = []
  const includes = included ?? []
  const excludes = excluded ?? []
  if (includes.includes("*") && includes.length > 1) problems.push(`included${what}: "*" must be the only entry`)
  if (excludes.includes("*")) problems.push(`excluded${what}: cannot contain "*"`)
  for (const name of excludes) {
    if (name !== "*" && includes.includes(name)) {
      problems.push(`${name} is both included and excluded in ${what.toLowerCase()}`)
    }
  }
  return problems
}

const restorablePhases: ReadonlySet<string> = new Set(["Completed", "PartiallyFailed"])

/** Empty when the restore can run. Unlike Velero, two sources mapped to one target are refused. */
export const validateRestore = (
  restore: Restore,
  backup: Option.Option<Backup>,
  discovery: Discovery
): ReadonlyArray<string> => {
  const spec = restore.spec
  const problems: Array<string> = []
  const backupName = spec.backupName ?? (Option.isSome(backup) ? backup.value.metadata.name : undefined)
  if (Option.isNone(backup)) {
    problems.push(
      backupName === undefined || backupName === ""
        ? spec.scheduleName === undefined
          ? "backupName or scheduleName is required"
          : `schedule "${spec.scheduleName}" has no successful backup`
        : `backup "${backupName}" not found`
    )
  } else {
    const phase = backup.value.status?.phase ?? "New"
    if (!restorablePhases.has(phase)) {
      problems.push(
        `backup "${
          backup.value.metadata.name ?? ""
        }" is in phase ${phase}: only Completed or PartiallyFailed backups can be restored`
      )
    }
  }
  problems.push(
    ...includesExcludesProblems("Namespaces", spec.includedNamespaces, spec.excludedNamespaces),
    ...includesExcludesProblems("Resources", spec.includedResources, spec.excludedResources)
  )
  for (
    const { field, name } of resourceFilter(spec.includedResources, spec.excludedResources, discovery.resources).unknown
  ) {
    problems.push(`${field}: unknown resource "${name}"`)
  }
  if (spec.labelSelector !== undefined && (spec.orLabelSelectors ?? []).length > 0) {
    problems.push("labelSelector and orLabelSelectors are mutually exclusive: set only one")
  }
  Either.match(makeRestoreSelection(spec, discovery.resources), {
    onLeft: (selectorProblems) => void problems.push(...selectorProblems),
    onRight: () => undefined
  })
  for (const [source, target] of Object.entries(spec.namespaceMapping ?? {})) {
    const sourceProblem = namespaceNameProblem(source)
    if (sourceProblem !== undefined) problems.push(`namespaceMapping: source namespace "${source}" ${sourceProblem}`)
    const targetProblem = namespaceNameProblem(target)
    if (targetProblem !== undefined) {
      problems.push(`namespaceMapping: target namespace "${target}" (for "${source}") ${targetProblem}`)
    }
  }
  for (const collision of namespaceMappingCollisions(spec.namespaceMapping ?? {})) {
    problems.push(`namespaceMapping: ${collision}`)
  }
  return problems
}
