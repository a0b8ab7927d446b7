// Ark's command tree as plain data for completion, read from @effect/cli's own descriptors, so a
// command or flag added later is completed without being registered anywhere.
import type { Command, Usage } from "@effect/cli"
import { Args, Options } from "@effect/cli"
import { Option } from "effect"

/** What a flag takes after it. */
export type FlagValue =
  | { readonly _tag: "None" }
  | { readonly _tag: "Choice"; readonly choices: ReadonlyArray<string> }
  | { readonly _tag: "Path" }
  | { readonly _tag: "Text" }

export interface FlagSpec {
  /** `--long` first, then aliases such as `-n`. */
  readonly names: ReadonlyArray<string>
  readonly value: FlagValue
}

export interface ArgSpec {
  /** As in the help: `NAME`, `SHELL`. */
  readonly name: string
  readonly choices: ReadonlyArray<string>
  readonly repeated: boolean
}

export interface CommandSpec {
  readonly name: string
  readonly flags: ReadonlyArray<FlagSpec>
  readonly args: ReadonlyArray<ArgSpec>
  readonly subcommands: ReadonlyArray<CommandSpec>
}

/**
 * The descriptor's nodes. @effect/cli exports their shapes only internally; these are the fields
 * completion reads (`Subcommands` keeps its children, which `getSubcommands` flattens away).
 */
type DescriptorNode =
  | {
    readonly _tag: "Standard"
    readonly name: string
    readonly options: Options.Options<unknown>
    readonly args: Args.Args<unknown>
  }
  | { readonly _tag: "GetUserInput"; readonly name: string }
  | { readonly _tag: "Map"; readonly command: DescriptorNode }
  | { readonly _tag: "Subcommands"; readonly parent: DescriptorNode; readonly children: ReadonlyArray<DescriptorNode> }

/** The placeholders @effect/cli shows for path-typed flags. */
const pathPlaceholders = new Set(["file", "directory", "path"])

const flagValue = (acceptedValues: Option.Option<string>): FlagValue =>
  Option.match(acceptedValues, {
    onNone: () => ({ _tag: "None" }),
    onSome: (accepted) =>
      accepted.includes(" | ")
        ? { _tag: "Choice", choices: accepted.split(" | ") }
        : pathPlaceholders.has(accepted)
        ? { _tag: "Path" }
        : { _tag: "Text" }
  })

/** The named leaves of a usage, left to right, and whether each may repeat. */
const namedIn = (usage: Usage.Usage, repeated = false): ReadonlyArray<{ named: Usage.Named; repeated: boolean }> => {
  switch (usage._tag) {
    case "Named":
      return [{ named: usage, repeated }]
    case "Optional":
      return namedIn(usage.usage, repeated)
    case "Repeated":
      return namedIn(usage.usage, true)
    case "Alternation":
    case "Concat":
      return [...namedIn(usage.left, repeated), ...namedIn(usage.right, repeated)]
    case "Empty":
    case "Mixed":
      return []
  }
}

const flagsOf = (options: Options.Options<unknown>): ReadonlyArray<FlagSpec> =>
  namedIn(Options.getUsage(options)).map(({ named }) => ({
    names: [...named.names].sort((a, b) => Number(!a.startsWith("--")) - Number(!b.startsWith("--"))),
    value: flagValue(named.acceptedValues)
  }))

const argsOf = (args: Args.Args<unknown>): ReadonlyArray<ArgSpec> =>
  namedIn(Args.getUsage(args)).map(({ named, repeated }) => ({
    name: (named.names[0] ?? "").replace(/^<|>$/g, ""),
    choices: Option.match(named.acceptedValues, { onNone: () => [], onSome: (accepted) => accepted.split(" | ") }),
    repeated
  }))

const specOf = (node: DescriptorNode): CommandSpec => {
  switch (node._tag) {
    case "Standard":
      return { name: node.name, flags: flagsOf(node.options), args: argsOf(node.args), subcommands: [] }
    case "GetUserInput":
      return { name: node.name, flags: [], args: [], subcommands: [] }
    case "Map":
      return specOf(node.command)
    case "Subcommands":
      return { ...specOf(node.parent), subcommands: node.children.map((child) => specOf(child)) }
  }
}

export const commandTree = <Name extends string, R, E, A>(command: Command.Command<Name, R, E, A>): CommandSpec =>
  specOf(command.descriptor as unknown as DescriptorNode)
