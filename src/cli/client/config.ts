// The client config of `ark client config set|get`: settings every command falls back on, kept in
// $XDG_CONFIG_HOME/ark/config.json (else ~/.config/ark/config.json), as Velero keeps
// ~/.config/velero/config.json. Only the CLI reads it; nothing secret belongs in it. And the
// namespace in use: --namespace, else $ARK_NAMESPACE, else the config's namespace, else heptio-ark.
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Config, Effect, Either, Option, Schema } from "effect"

import { CliError } from "../errors.ts"
import { checkNamespaceName, defaultNamespace } from "../namespace.ts"

/** What each key accepts; a value is checked when it is set and again when it is read. */
export const clientConfigKeys: Record<string, (value: string) => Either.Either<string, string>> = {
  namespace: checkNamespaceName
}

const ClientConfigFile = Schema.parseJson(Schema.Record({ key: Schema.String, value: Schema.String }))
type ClientConfig = typeof ClientConfigFile.Type

/** The file's path, from $XDG_CONFIG_HOME or $HOME; None when neither is set. */
export const clientConfigPath = Effect.gen(function*() {
  const path = yield* Path.Path
  const xdg = yield* Config.option(Config.nonEmptyString("XDG_CONFIG_HOME"))
  const home = yield* Config.option(Config.nonEmptyString("HOME"))
  const dir = Option.orElse(xdg, () => Option.map(home, (home) => path.join(home, ".config")))
  return Option.map(dir, (dir) => path.join(dir, "ark", "config.json"))
}).pipe(Effect.orElseSucceed(() => Option.none<string>()))

const unreadable = (file: string, why: string) =>
  new CliError({
    message: `cannot read the client config ${file}: ${why}`,
    hint: `fix or remove it; \`ark client config set KEY=VALUE\` writes a new one`
  })

/** The settings in the file; none when there is no file. A file that is not Ark's is refused, never ignored. */
export const readClientConfig = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const file = yield* clientConfigPath
  if (Option.isNone(file) || !(yield* fs.exists(file.value).pipe(Effect.orElseSucceed(() => false)))) {
    return {} as ClientConfig
  }
  const text = yield* fs.readFileString(file.value).pipe(
    Effect.mapError((error) => unreadable(file.value, error.message))
  )
  const config = yield* Schema.decode(ClientConfigFile)(text).pipe(
    Effect.mapError(() => unreadable(file.value, "it is not a JSON object of strings"))
  )
  for (const [key, value] of Object.entries(config)) {
    const check = clientConfigKeys[key]
    const problem = check === undefined ? Option.some("is not a client setting") : Either.getLeft(check(value))
    if (Option.isSome(problem)) return yield* unreadable(file.value, `${key} "${value}": ${problem.value}`)
  }
  return config
})

/** `key=value` arguments as settings; an unknown key or a bad value is refused with what is allowed. */
export const parseSettings = (assignments: ReadonlyArray<string>): Either.Either<ClientConfig, CliError> => {
  const known = Object.keys(clientConfigKeys).join(", ")
  const settings: Record<string, string> = {}
  for (const assignment of assignments) {
    const eq = assignment.indexOf("=")
    const key = eq < 0 ? assignment : assignment.slice(0, eq)
    if (eq < 0 || key === "") {
      return Either.left(
        new CliError({
          message: `"${assignment}" is not KEY=VALUE`,
          hint: "for example: ark client config set namespace=ark"
        })
      )
    }
    const check = clientConfigKeys[key]
    if (check === undefined) {
      return Either.left(
        new CliError({ message: `${key} is not a client setting`, hint: `the settings are: ${known}` })
      )
    }
    const value = assignment.slice(eq + 1)
    const checked = value === "" ? Either.right(value) : check(value)
    if (Either.isLeft(checked)) {
      return Either.left(
        new CliError({
          message: `${key}: "${value}" is not allowed: ${checked.left}`,
          hint: `for example: ark client config set ${key}=ark`
        })
      )
    }
    settings[key] = value
  }
  return Either.right(settings)
}

/** Merges the settings into the file; an empty value removes its key. Returns the file's path. */
export const writeClientConfig = Effect.fn("Cli.clientConfigWrite")(function*(settings: ClientConfig) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const file = yield* clientConfigPath
  if (Option.isNone(file)) {
    return yield* new CliError({
      message: "cannot find the user's config directory: neither $XDG_CONFIG_HOME nor $HOME is set",
      hint: "set HOME, or use --namespace and $ARK_NAMESPACE instead"
    })
  }
  const current = yield* readClientConfig
  const merged: Record<string, string> = { ...current }
  for (const [key, value] of Object.entries(settings)) {
    if (value === "") delete merged[key]
    else merged[key] = value
  }
  yield* fs.makeDirectory(path.dirname(file.value), { recursive: true }).pipe(
    Effect.zipRight(fs.writeFileString(file.value, `${JSON.stringify(merged, null, 2)}\n`)),
    Effect.mapError((error) =>
      new CliError({ message: `cannot write the client config ${file.value}: ${error.message}` })
    )
  )
  return file.value
})

const checked = (source: string, namespace: string) =>
  Either.mapLeft(
    checkNamespaceName(namespace),
    (problem) =>
      new CliError({
        message: `${source}: "${namespace}" is not a namespace name: ${problem}`,
        hint: "for example: -n heptio-ark"
      })
  )

/** The namespace in use, by precedence; a bad name from any source is refused, naming the source. */
export const resolveNamespace = (flag: Option.Option<string>) =>
  Effect.gen(function*() {
    if (Option.isSome(flag)) return yield* checked("--namespace", flag.value)
    const fromEnv = yield* Config.option(Config.nonEmptyString("ARK_NAMESPACE")).pipe(
      Effect.orElseSucceed(() => Option.none<string>())
    )
    if (Option.isSome(fromEnv)) return yield* checked("ARK_NAMESPACE", fromEnv.value)
    const config = yield* readClientConfig
    return config["namespace"] ?? defaultNamespace
  })
