// Map-valued flags (`--config`, `--labels`, `--annotations`) in Velero's form: `k=v,k2=v2`,
// repeated or not, parsed the same way everywhere before anything is created.
import { Options } from "@effect/cli"
import { Either } from "effect"

import { CliError } from "./errors.ts"

/** A repeatable `--<name> k=v[,k=v]` flag; the values are parsed by `parseMap`. */
export const mapOption = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.repeated)

/**
 * Every value of `--<flag>` split into one map; an entry that is not key=value, or a key given
 * twice, is refused with an example of the form.
 */
export const parseMap = (
  flag: string,
  values: ReadonlyArray<string>,
  example: string
): Either.Either<Readonly<Record<string, string>>, CliError> => {
  const map: Record<string, string> = {}
  const entries = values.flatMap((value) => value.split(",")).map((part) => part.trim()).filter((part) => part !== "")
  for (const entry of entries) {
    const eq = entry.indexOf("=")
    const key = eq < 0 ? "" : entry.slice(0, eq).trim()
    if (key === "") {
      return Either.left(
        new CliError({ message: `--${flag}: "${entry}" is not key=value`, hint: `for example: --${flag} ${example}` })
      )
    }
    if (Object.hasOwn(map, key)) return Either.left(new CliError({ message: `--${flag}: ${key} is given twice` }))
    map[key] = entry.slice(eq + 1).trim()
  }
  return Either.right(map)
}
