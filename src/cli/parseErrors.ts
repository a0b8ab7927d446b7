// @effect/cli's own parse errors ("Missing argument <NAME>", "Expected a value following option")
// said again in Ark's words: one line naming the argument or flag and what it needed, and the
// command whose help shows the usage. The router (help/route.ts) answers most mistakes before
// @effect/cli parses; these are the ones only the parser finds.
import type { ValidationError } from "@effect/cli"

import { docText } from "./commandTree.ts"
import { CliError } from "./errors.ts"

/** The hint of every usage mistake: where the command's usage is. */
export const usageHint = (command: string) => `run "${command} --help" for usage`

const choiceList = (choices: string) => choices.split(/ \| |, /).join(", ")

/** What went wrong, from the parser's text; `command` is the command's words, `ark backup create`. */
const messageOf = (command: string, text: string): string => {
  const missingFlags = [...text.matchAll(/Expected to find option: '([^']+)'/g)].map((match) => match[1])
  if (missingFlags.length > 0) {
    return `"${command}" needs ${missingFlags.join(" and ")}`
  }
  const missingArgument = /Missing argument (?:<([^>]+)>|(\w+))(?: with choices (.+))?/.exec(text)
  if (missingArgument !== null) {
    const [, name, typeName, choices] = missingArgument
    const what = name === undefined ? `a ${typeName} argument` : `the argument ${name}`
    return `"${command}" needs ${what}${choices === undefined ? "" : ` (one of ${choiceList(choices)})`}`
  }
  const noValue = /Expected a value following option: '([^']+)'/.exec(text)
  if (noValue !== null) return `${noValue[1]} needs a value`
  const extra = /Received unknown argument: '([^']*)'/.exec(text)
  if (extra !== null) return `unexpected argument "${extra[1]}" for "${command}"`
  const notOneOf = /Expected one of the following cases: (.+)/.exec(text)
  if (notOneOf !== null) return `invalid argument for "${command}": expected one of ${choiceList(notOneOf[1]!)}`
  const notA = /'(.*)' is not a (\w+)/.exec(text)
  if (notA !== null) return `invalid value "${notA[1]}" for "${command}": expected ${article(notA[2]!)}`
  return text.length === 0 ? `cannot parse the command line of "${command}"` : lowerFirst(text)
}

const article = (typeName: string) => (/^[aeiou]/.test(typeName) ? `an ${typeName}` : `a ${typeName}`)

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1)

/** Ark's one-line error for a parse failure of `command` (its words from `ark` down). */
export const parseError = (command: string, error: ValidationError.ValidationError): CliError => {
  const text = "error" in error ? docText(error.error).trim() : ""
  // A flag's own check (such as -n's) already wrote Ark's two lines.
  const own = /^error: (.*?)(?:\s+hint: (.*))?$/s.exec(text)
  if (own !== null) return new CliError({ message: own[1]!, hint: own[2] ?? usageHint(command) })
  return new CliError({ message: messageOf(command, text), hint: usageHint(command) })
}
