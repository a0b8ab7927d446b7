// Reads the command line against the declared command tree before @effect/cli parses it: a
// request for help, a mistyped command or flag, or a value outside a flag's choices is answered
// here, in the user's words, with a suggestion; everything else runs as declared (and what only
// the parser finds is said in Ark's words by parseErrors.ts).
import { Option } from "effect"

import type { CommandInfo, FlagInfo } from "../commandTree.ts"
import { usageHint } from "../parseErrors.ts"

export type Route =
  | { readonly _tag: "Run"; readonly path: ReadonlyArray<CommandInfo> }
  | { readonly _tag: "Help"; readonly path: ReadonlyArray<CommandInfo> }
  | { readonly _tag: "Version" }
  | {
    readonly _tag: "Mistake"
    readonly path: ReadonlyArray<CommandInfo>
    readonly message: string
    readonly hint: string
  }

/** Edit distance between two words (insert, delete, substitute, swap neighbours). */
const distance = (a: string, b: string): number => {
  // Row 0 and column 0 hold i + j, the cost of building a prefix from nothing; the rest is overwritten.
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i + j))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1)
      }
      rows[i]![j] = best
    }
  }
  return rows[a.length]![b.length]!
}

/** The known word closest to `typed`, if it is close enough to be what the user meant. */
export const closest = (typed: string, known: ReadonlyArray<string>): Option.Option<string> => {
  const scored = known
    .map((word) => ({ word, score: word.startsWith(typed) && typed.length >= 3 ? 0 : distance(typed, word) }))
    .filter(({ score, word }) => score <= Math.max(2, Math.floor(word.length / 4)))
    .sort((a, b) => a.score - b.score)
  return Option.fromNullable(scored[0]?.word)
}

const isHelp = (token: string) => token === "--help" || token === "-h"

export const words = (path: ReadonlyArray<CommandInfo>) => path.map((command) => command.name).join(" ")

/** A word the command at the end of `path` does not know: a command or a flag, with a suggestion. */
const unknown = (
  kind: "command" | "flag",
  path: ReadonlyArray<CommandInfo>,
  typed: string,
  known: ReadonlyArray<string>
): Route => {
  const here = words(path)
  const lists = `("${here} --help" lists its ${kind === "command" ? "commands" : "flags"})`
  return {
    _tag: "Mistake",
    path,
    message: `unknown ${kind} "${typed}" for "${here}"`,
    hint: Option.match(closest(typed, known), {
      onNone: () => lists,
      onSome: (word) => `did you mean "${word}"? ${lists}`
    })
  }
}

const flagNames = (flags: ReadonlyArray<FlagInfo>) => flags.flatMap((flag) => [flag.name, ...flag.aliases])

const switchValues = ["true", "false"]

/** Checks a leaf command's flags and arguments: each flag declared, each value of the kind it takes. */
const checkFlags = (path: ReadonlyArray<CommandInfo>, tokens: ReadonlyArray<string>): Route => {
  const { args, flags } = path[path.length - 1]!
  let positional = 0
  const byName = new Map(flags.flatMap((flag) => [flag.name, ...flag.aliases].map((name) => [name, flag] as const)))
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token === "--") return { _tag: "Run", path }
    if (isHelp(token)) return { _tag: "Help", path }
    if (!token.startsWith("-") || token === "-" || /^-\d/.test(token)) {
      const arg = args[positional++]
      if (arg !== undefined && arg.choices.length > 0 && !arg.choices.includes(token)) {
        return mistake(path, `invalid value "${token}" for ${arg.name}`, `use one of ${arg.choices.join(", ")}`)
      }
      continue
    }
    const [name = token, inline] = token.startsWith("--") ? splitAt(token) : [token, undefined]
    const flag = byName.get(name)
    if (flag === undefined) {
      // Clustered switches such as -wy are @effect/cli's to unpick when each letter is declared.
      const letters = /^-[^-]{2,}$/.test(name) ? [...name.slice(1)].map((letter) => `-${letter}`) : []
      if (letters.length > 0 && letters.every((letter) => byName.has(letter))) continue
      return unknown("flag", path, name, flagNames(flags))
    }
    if (Option.isNone(flag.value)) {
      // A switch: kubectl's --flag=true|false, which @effect/cli reads too, and no other value.
      if (inline !== undefined && !switchValues.includes(inline)) {
        return mistake(
          path,
          `invalid value "${inline}" for ${name}: it is a switch, given alone (or =true, =false)`,
          usageHint(words(path))
        )
      }
      continue
    }
    const value = inline ?? tokens[++i]
    if (value === undefined) continue
    if (flag.choices.length > 0 && !flag.choices.includes(value)) {
      return mistake(path, `invalid value "${value}" for ${flag.name}`, `use one of ${flag.choices.join(", ")}`)
    }
    if (flag.kind === "integer" && !/^-?\d+$/.test(value)) {
      return mistake(path, `invalid value "${value}" for ${flag.name}: expected a whole number`, usageHint(words(path)))
    }
    if (flag.kind === "number" && !Number.isFinite(Number(value))) {
      return mistake(path, `invalid value "${value}" for ${flag.name}: expected a number`, usageHint(words(path)))
    }
  }
  return { _tag: "Run", path }
}

const mistake = (path: ReadonlyArray<CommandInfo>, message: string, hint: string): Route => ({
  _tag: "Mistake",
  path,
  message,
  hint
})

const splitAt = (token: string): readonly [string, string | undefined] => {
  const equals = token.indexOf("=")
  return equals < 0 ? [token, undefined] : [token.slice(0, equals), token.slice(equals + 1)]
}

/** Where the words of `args` (after the program's name) lead in the tree rooted at `root`. */
export const route = (root: CommandInfo, args: ReadonlyArray<string>): Route => {
  const path: Array<CommandInfo> = [root]
  let i = 0
  for (let command = root; command.subcommands.length > 0; i++) {
    const token = args[i]
    // A group does nothing itself: without a subcommand, say what it holds.
    if (token === undefined || isHelp(token)) return { _tag: "Help", path }
    if (command === root && token === "--version") return { _tag: "Version" }
    if (token.startsWith("-")) return unknown("flag", path, splitAt(token)[0], [])
    const child = command.subcommands.find((candidate) => candidate.name === token)
    if (child === undefined) return unknown("command", path, token, command.subcommands.map((sub) => sub.name))
    path.push(child)
    command = child
  }
  return checkFlags(path, args.slice(i))
}
