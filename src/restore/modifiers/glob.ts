// The glob syntax Velero's resource modifiers match group-resources and namespaces with
// (github.com/gobwas/glob): `*` any run of characters except the separator, `**` any run at all,
// `?` one character except the separator, `[abc]`, `[a-z]`, `[!abc]`, `{a,b}` and `\` escapes.
import { Either } from "effect"

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")

/** The glob as an anchored RegExp; `separator` is what `*` and `?` do not cross (none: they cross everything). */
export const compileGlob = (pattern: string, separator?: string): Either.Either<RegExp, string> => {
  const notSeparator = separator === undefined ? "[^]" : `[^${escapeRegExp(separator)}]`
  let source = ""
  let alternatives = 0
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index]!
    switch (char) {
      case "*":
        if (pattern[index + 1] === "*") {
          source += "[^]*"
          index++
        } else source += `${notSeparator}*`
        break
      case "?":
        source += notSeparator
        break
      case "\\": {
        const next = pattern[index + 1]
        if (next === undefined) return Either.left(`glob "${pattern}" ends with an unfinished '\\' escape`)
        source += escapeRegExp(next)
        index++
        break
      }
      case "[": {
        const end = pattern.indexOf("]", index + 2)
        if (end < 0) return Either.left(`glob "${pattern}" has a '[' without its ']'`)
        const body = pattern.slice(index + 1, end)
        const negated = body.startsWith("!")
        const members = (negated ? body.slice(1) : body).replace(/[\\\]^]/g, "\\$&")
        if (members === "") return Either.left(`glob "${pattern}" has an empty character class`)
        source += negated ? `[^${members}]` : `[${members}]`
        index = end
        break
      }
      case "{":
        alternatives++
        source += "(?:"
        break
      case "}":
        if (alternatives === 0) return Either.left(`glob "${pattern}" has a '}' without its '{'`)
        alternatives--
        source += ")"
        break
      case ",":
        source += alternatives > 0 ? "|" : ","
        break
      default:
        source += escapeRegExp(char)
    }
  }
  if (alternatives > 0) return Either.left(`glob "${pattern}" has a '{' without its '}'`)
  return Either.right(new RegExp(`^${source}$`))
}
