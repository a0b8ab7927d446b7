// What `ark` knows about its commands, for help, the command router and completion alike: read
// from the descriptors that @effect/cli builds from `Command.make`, so a command or flag declared in
// commands/*.ts is described and completed without being registered anywhere else. @effect/cli (~0.77) types its descriptor
// instructions as internal; the shapes below are the fields this module reads, and the help test
// walks every command so a change in them fails loudly.
import type { Command, HelpDoc } from "@effect/cli"
import type { Span } from "@effect/cli/HelpDoc/Span"
import { Option } from "effect"

export interface FlagInfo {
  /** `--name`, as typed. */
  readonly name: string
  /** `-n` and other spellings. */
  readonly aliases: ReadonlyArray<string>
  /** What follows the flag: DURATION, STRING, `table|json|yaml`; none for a boolean switch. */
  readonly value: Option.Option<string>
  /** What the value must be, for checking it before parsing and for completing it. */
  readonly kind: ValueKind
  readonly choices: ReadonlyArray<string>
  readonly description: string
  readonly defaultValue: Option.Option<string>
}

export interface ArgInfo {
  /** As in the help: `NAME`, `SHELL`. */
  readonly name: string
  readonly optional: boolean
  /** `NAME...`: any number may be given. */
  readonly repeated: boolean
  readonly choices: ReadonlyArray<string>
  readonly description: string
}

/** What a flag takes after it: nothing (a switch), one of its choices, a path, a number or text. */
export type ValueKind = "switch" | "choice" | "path" | "integer" | "number" | "text"

export interface CommandInfo {
  readonly name: string
  readonly description: string
  readonly args: ReadonlyArray<ArgInfo>
  readonly flags: ReadonlyArray<FlagInfo>
  readonly subcommands: ReadonlyArray<CommandInfo>
}

// The fields of @effect/cli's descriptor instructions that are read here.
type Primitive =
  | { readonly _tag: "Bool" }
  | { readonly _tag: "Choice"; readonly alternatives: ReadonlyArray<readonly [string, unknown]> }
  | { readonly _tag: "Path"; readonly pathType: "file" | "directory" | "either" }
  | { readonly _tag: "Integer" | "Float" | "Text" | "DateTime" | "Secret" | "Redacted" }

type OptionsNode =
  | { readonly _tag: "Empty" }
  | {
    readonly _tag: "Single"
    readonly fullName: string
    readonly aliases: ReadonlyArray<string>
    readonly primitiveType: Primitive
    readonly description: HelpDoc.HelpDoc
    readonly pseudoName: Option.Option<string>
  }
  | { readonly _tag: "Map" | "WithFallback"; readonly options: OptionsNode }
  | { readonly _tag: "WithDefault"; readonly options: OptionsNode; readonly fallback: unknown }
  | { readonly _tag: "Both" | "OrElse"; readonly left: OptionsNode; readonly right: OptionsNode }
  | { readonly _tag: "Variadic" | "KeyValueMap"; readonly argumentOption: OptionsNode }

type ArgsNode =
  | { readonly _tag: "Empty" }
  | {
    readonly _tag: "Single"
    readonly name: string
    readonly pseudoName: Option.Option<string>
    readonly primitiveType: Primitive
    readonly description: HelpDoc.HelpDoc
  }
  | { readonly _tag: "Map" | "WithFallbackConfig"; readonly args: ArgsNode }
  | { readonly _tag: "WithDefault"; readonly args: ArgsNode; readonly fallback: unknown }
  | { readonly _tag: "Both"; readonly left: ArgsNode; readonly right: ArgsNode }
  | { readonly _tag: "Variadic"; readonly args: ArgsNode; readonly min: Option.Option<number> }

type DescriptorNode =
  | {
    readonly _tag: "Standard"
    readonly name: string
    readonly description: HelpDoc.HelpDoc
    readonly options: OptionsNode
    readonly args: ArgsNode
  }
  | { readonly _tag: "GetUserInput"; readonly name: string; readonly description: HelpDoc.HelpDoc }
  | { readonly _tag: "Map"; readonly command: DescriptorNode }
  | { readonly _tag: "Subcommands"; readonly parent: DescriptorNode; readonly children: ReadonlyArray<DescriptorNode> }

const spanText = (span: Span): string => {
  switch (span._tag) {
    case "Text":
    case "URI":
      return span.value
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
    default:
      return spanText(span.value)
  }
}

/** A description's paragraphs as one line of plain text. */
export const docText = (doc: HelpDoc.HelpDoc): string => {
  switch (doc._tag) {
    case "Empty":
      return ""
    case "Header":
    case "Paragraph":
      return spanText(doc.value)
    case "Sequence":
      return [docText(doc.left), docText(doc.right)].filter((text) => text.length > 0).join(" ")
    case "Enumeration":
      return doc.elements.map((element) => docText(element)).join(" ")
    case "DescriptionList":
      return doc.definitions.map(([term, definition]) => `${spanText(term)} ${docText(definition)}`).join(" ")
  }
}

const valueOf = (primitive: Primitive, pseudoName: Option.Option<string>): Option.Option<string> => {
  if (primitive._tag === "Bool") return Option.none()
  if (Option.isSome(pseudoName)) return pseudoName
  switch (primitive._tag) {
    case "Choice":
      return Option.some(primitive.alternatives.map(([name]) => name).join("|"))
    case "Path":
      return Option.some(primitive.pathType === "directory" ? "DIR" : primitive.pathType === "file" ? "FILE" : "PATH")
    case "Integer":
      return Option.some("INT")
    case "Float":
      return Option.some("NUMBER")
    default:
      return Option.some("STRING")
  }
}

const kindOf = (primitive: Primitive): ValueKind => {
  switch (primitive._tag) {
    case "Bool":
      return "switch"
    case "Choice":
      return "choice"
    case "Path":
      return "path"
    case "Integer":
      return "integer"
    case "Float":
      return "number"
    default:
      return "text"
  }
}

const choicesOf = (primitive: Primitive): ReadonlyArray<string> =>
  primitive._tag === "Choice" ? primitive.alternatives.map(([name]) => name) : []

/** A default worth showing: not an absent Option, not a switch's `false`. */
const shownDefault = (fallback: unknown): Option.Option<string> =>
  typeof fallback === "string" || typeof fallback === "number" || fallback === true
    ? Option.some(String(fallback))
    : Option.none()

const flagsOf = (node: OptionsNode): ReadonlyArray<FlagInfo> => {
  switch (node._tag) {
    case "Empty":
      return []
    case "Single":
      return [{
        name: node.fullName,
        aliases: node.aliases.map((alias) => (alias.length === 1 ? `-${alias}` : `--${alias}`)),
        value: valueOf(node.primitiveType, node.pseudoName),
        kind: kindOf(node.primitiveType),
        choices: choicesOf(node.primitiveType),
        description: docText(node.description),
        defaultValue: Option.none()
      }]
    case "Map":
    case "WithFallback":
      return flagsOf(node.options)
    case "WithDefault": {
      const flags = flagsOf(node.options)
      const [only] = flags
      return flags.length === 1 && only !== undefined && Option.isNone(only.defaultValue)
        ? [{ ...only, defaultValue: shownDefault(node.fallback) }]
        : flags
    }
    case "Both":
    case "OrElse":
      return [...flagsOf(node.left), ...flagsOf(node.right)]
    case "Variadic":
    case "KeyValueMap":
      return flagsOf(node.argumentOption)
  }
}

const argsOf = (node: ArgsNode, optional: boolean): ReadonlyArray<ArgInfo> => {
  switch (node._tag) {
    case "Empty":
      return []
    case "Single":
      return [{
        name: Option.getOrElse(node.pseudoName, () => node.name),
        optional,
        repeated: false,
        choices: choicesOf(node.primitiveType),
        description: docText(node.description)
      }]
    case "Map":
    case "WithFallbackConfig":
      return argsOf(node.args, optional)
    // `NAME...`: any number, none included unless a minimum is declared.
    case "Variadic":
      return argsOf(node.args, optional || Option.getOrElse(node.min, () => 0) === 0)
        .map((arg) => ({ ...arg, repeated: true }))
    case "WithDefault":
      return argsOf(node.args, true)
    case "Both":
      return [...argsOf(node.left, optional), ...argsOf(node.right, optional)]
  }
}

const infoOf = (node: DescriptorNode): CommandInfo => {
  switch (node._tag) {
    case "Standard":
      return {
        name: node.name,
        description: docText(node.description),
        args: argsOf(node.args, false),
        flags: flagsOf(node.options),
        subcommands: []
      }
    case "GetUserInput":
      return { name: node.name, description: docText(node.description), args: [], flags: [], subcommands: [] }
    case "Map":
      return infoOf(node.command)
    case "Subcommands":
      return { ...infoOf(node.parent), subcommands: node.children.map((child) => infoOf(child)) }
  }
}

/** The command tree below `command`, as declared. */
export const commandTree = (command: Pick<Command.Command<string, never, never, unknown>, "descriptor">): CommandInfo =>
  infoOf(command.descriptor as unknown as DescriptorNode)
