// What to offer for the word being typed, from the words before it and Ark's command tree: pure, so
// every case is a table row in a unit test. Names of resources are left for names.ts to look up.
import { Option } from "effect"

import type { CommandInfo, FlagInfo } from "../commandTree.ts"

/** The plural of each of Ark's resources whose names completion offers. */
export type ResourcePlural =
  | "backups"
  | "restores"
  | "schedules"
  | "backupstoragelocations"
  | "volumesnapshotlocations"

/** The --kubeconfig and --namespace given on the line so far. */
export interface ConnectionWords {
  readonly kubeconfig?: string
  readonly namespace?: string
}

export type Completion =
  | { readonly _tag: "Words"; readonly words: ReadonlyArray<string> }
  | { readonly _tag: "Files" }
  | {
    readonly _tag: "Names"
    readonly resource: ResourcePlural
    /** Written before each name: `--from-backup=`, or the items before the last comma of a list. */
    readonly prefix: string
    /** The part of the name typed so far. */
    readonly typed: string
    readonly connection: ConnectionWords
  }

/** A command group's NAME argument names one of these (except under `create`, which names a new one). */
const resourceOfGroup: Record<string, ResourcePlural> = {
  backup: "backups",
  restore: "restores",
  schedule: "schedules",
  "backup-location": "backupstoragelocations",
  "snapshot-location": "volumesnapshotlocations"
}

/** Flags whose values are existing resources; a list flag's last item is completed. */
const resourceOfFlag: Record<string, ResourcePlural> = {
  "--from-backup": "backups",
  "--from-schedule": "schedules",
  "--storage-location": "backupstoragelocations",
  "--volume-snapshot-locations": "volumesnapshotlocations"
}

/** Every command answers `--help` (@effect/cli's own flag, not in the descriptors). */
const helpFlag: FlagInfo = {
  name: "--help",
  aliases: ["-h"],
  value: Option.none(),
  kind: "switch",
  choices: [],
  description: "",
  defaultValue: Option.none()
}

const words = (candidates: ReadonlyArray<string>, typed: string): Completion => ({
  _tag: "Words",
  words: candidates.filter((candidate) => candidate.startsWith(typed))
})

const isFlag = (word: string) => word.startsWith("-") && word !== "-"

/** What a valued flag's value may be, `prefix` written before each candidate. */
const valueOf = (
  flag: FlagInfo,
  value: string,
  prefix: string,
  connection: ConnectionWords
): Completion => {
  const resource = resourceOfFlag[flag.name]
  if (resource !== undefined) {
    const lastComma = value.lastIndexOf(",")
    return {
      _tag: "Names",
      resource,
      prefix: prefix + value.slice(0, lastComma + 1),
      typed: value.slice(lastComma + 1),
      connection
    }
  }
  switch (flag.kind) {
    case "choice":
      return words(flag.choices.map((choice) => prefix + choice), prefix + value)
    case "path":
      return prefix === "" ? { _tag: "Files" } : words([], value)
    default:
      return words([], value)
  }
}

/**
 * The completion of `typed`, the last word, after `before` (the words after `ark`). Flags are
 * offered in their long form, valued ones as `--flag=`, and only those not given yet.
 */
export const completionOf = (root: CommandInfo, before: ReadonlyArray<string>, typed: string): Completion => {
  let command = root
  const path: Array<string> = []
  let positionals = 0
  let pending: FlagInfo | undefined
  const given = new Set<string>()
  const connection: { kubeconfig?: string; namespace?: string } = {}
  const flagNamed = (name: string) =>
    [...command.flags, helpFlag].find((flag) => flag.name === name || flag.aliases.includes(name))
  const remember = (flag: FlagInfo, value: string) => {
    if (flag.name === "--kubeconfig") connection.kubeconfig = value
    if (flag.name === "--namespace") connection.namespace = value
  }

  for (const word of before) {
    if (pending !== undefined) {
      remember(pending, word)
      pending = undefined
      continue
    }
    if (isFlag(word)) {
      const equals = word.indexOf("=")
      const flag = flagNamed(equals < 0 ? word : word.slice(0, equals))
      if (flag === undefined) continue
      given.add(flag.name)
      if (flag.kind === "switch") continue
      if (equals < 0) pending = flag
      else remember(flag, word.slice(equals + 1))
      continue
    }
    const subcommand = positionals === 0 ? command.subcommands.find(({ name }) => name === word) : undefined
    if (subcommand !== undefined) {
      command = subcommand
      path.push(word)
    } else {
      positionals += 1
    }
  }

  if (pending !== undefined) return valueOf(pending, typed, "", connection)
  if (isFlag(typed)) {
    const equals = typed.indexOf("=")
    if (equals >= 0) {
      const flag = flagNamed(typed.slice(0, equals))
      return flag === undefined || flag.kind === "switch"
        ? words([], typed)
        : valueOf(flag, typed.slice(equals + 1), typed.slice(0, equals + 1), connection)
    }
    const offered = [...command.flags, helpFlag]
      .filter((flag) => !given.has(flag.name))
      .map((flag) => `${flag.name}${flag.kind === "switch" ? "" : "="}`)
    return words(offered, typed)
  }
  if (positionals === 0 && command.subcommands.length > 0) {
    return words(command.subcommands.map(({ name }) => name), typed)
  }
  const arg = command.args[positionals] ?? command.args.findLast(({ repeated }) => repeated)
  if (arg === undefined) return words([], typed)
  const group = resourceOfGroup[path[0] ?? ""]
  if (arg.name === "NAME" && group !== undefined && path.at(-1) !== "create") {
    return { _tag: "Names", resource: group, prefix: "", typed, connection }
  }
  return words(arg.choices, typed)
}
