// `ark ... --help` as plain text in the shape kubectl and Velero print: what the command does,
// its usage line, then one line per argument, subcommand or flag with its default, within 100
// columns.
import { Option } from "effect"

import type { ArgInfo, CommandInfo, FlagInfo } from "../commandTree.ts"

export const helpWidth = 100

/** Words of `text` in lines of at most `width` columns (a longer word gets a line of its own). */
const wrap = (text: string, width: number): ReadonlyArray<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/).filter((part) => part.length > 0)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line.length === 0 ? word : `${line} ${word}`
    }
  }
  if (line.length > 0) lines.push(line)
  return lines
}

/** Terms and their descriptions in two columns; a term too wide for its column gets a line of its own. */
const table = (rows: ReadonlyArray<readonly [string, string]>): ReadonlyArray<string> => {
  const indent = "  "
  const widest = Math.max(0, ...rows.map(([term]) => term.length))
  const termWidth = Math.min(widest, 36)
  const textColumn = indent.length + termWidth + 3
  const lines: Array<string> = []
  for (const [term, text] of rows) {
    const wrapped = wrap(text, helpWidth - textColumn)
    const [first = "", ...rest] = wrapped
    if (term.length <= termWidth) {
      lines.push(`${indent}${term.padEnd(termWidth)}   ${first}`.trimEnd())
    } else {
      lines.push(`${indent}${term}`)
      if (first.length > 0) lines.push(`${" ".repeat(textColumn)}${first}`)
    }
    for (const line of rest) lines.push(`${" ".repeat(textColumn)}${line}`)
  }
  return lines
}

const flagTerm = (flag: FlagInfo) => {
  const short = flag.aliases.find((alias) => /^-[^-]$/.test(alias))
  const names = [...(short === undefined ? ["   "] : [`${short},`]), flag.name].join(" ")
  return Option.match(flag.value, { onNone: () => names, onSome: (value) => `${names} ${value}` })
}

const argTerm = (arg: ArgInfo) => (arg.repeated ? `${arg.name}...` : arg.name)

const flagText = (flag: FlagInfo) =>
  Option.match(flag.defaultValue, {
    onNone: () => flag.description,
    onSome: (value) => `${flag.description} (default ${value})`
  })

const switchFlag = (name: string, aliases: ReadonlyArray<string>, description: string): FlagInfo => ({
  name,
  aliases,
  value: Option.none(),
  kind: "switch",
  choices: [],
  description,
  defaultValue: Option.none()
})

// Answered before the declared flags, by route.ts.
const helpFlag = switchFlag("--help", ["-h"], "show this help")
const versionFlag = switchFlag("--version", [], "print Ark's version")

/** Every runnable command below `command`, with the words that name it. */
const leaves = (command: CommandInfo, prefix: ReadonlyArray<string>): ReadonlyArray<readonly [string, CommandInfo]> =>
  command.subcommands.flatMap((child) => {
    const path = [...prefix, child.name]
    return child.subcommands.length === 0 ? [[path.join(" "), child] as const] : leaves(child, path)
  })

/** The help of the last command of `path` (from `ark` down), as lines of text. */
export const renderHelp = (path: ReadonlyArray<CommandInfo>): string => {
  const command = path[path.length - 1]!
  const words = path.map((step) => step.name).join(" ")
  const sections: Array<ReadonlyArray<string>> = []
  if (command.description.length > 0) sections.push(wrap(command.description, helpWidth))
  if (command.subcommands.length > 0) {
    // The root lists every runnable command; a group lists its own.
    const rows = path.length === 1
      ? leaves(command, []).map(([name, leaf]) => [name, leaf.description] as const)
      : command.subcommands.map((child) => [child.name, child.description] as const)
    sections.push(["Usage:", `  ${words} COMMAND`])
    sections.push(["Commands:", ...table(rows)])
    const flags = path.length === 1 ? [helpFlag, versionFlag] : [helpFlag]
    sections.push(["Flags:", ...table(flags.map((flag) => [flagTerm(flag), flag.description]))])
    sections.push([`Run "${words} COMMAND --help" for a command's arguments and flags.`])
  } else {
    const args = command.args.map((arg) => (arg.optional ? `[${argTerm(arg)}]` : argTerm(arg)))
    sections.push(["Usage:", `  ${[words, ...args, ...(command.flags.length > 0 ? ["[flags]"] : [])].join(" ")}`])
    const describedArgs = command.args.filter((arg) => arg.description.length > 0)
    if (describedArgs.length > 0) {
      sections.push(["Arguments:", ...table(describedArgs.map((arg) => [argTerm(arg), arg.description] as const))])
    }
    sections.push(["Flags:", ...table([...command.flags, helpFlag].map((flag) => [flagTerm(flag), flagText(flag)]))])
  }
  return sections.map((lines) => lines.join("\n")).join("\n\n")
}
