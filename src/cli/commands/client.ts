import { Args, Command } from "@effect/cli"
import { Console, Effect, Option } from "effect"

import { clientConfigPath, parseSettings, readClientConfig, writeClientConfig } from "../client/config.ts"

const set = Command.make(
  "set",
  { settings: Args.text({ name: "KEY=VALUE" }).pipe(Args.atLeast(1)) },
  ({ settings }) =>
    Effect.gen(function*() {
      const parsed = yield* parseSettings(settings)
      const file = yield* writeClientConfig(parsed)
      yield* Console.log(`Client config written to ${file}.`)
    })
).pipe(Command.withDescription("Set client settings (namespace=NS); an empty value removes the setting"))

const get = Command.make(
  "get",
  {},
  () =>
    Effect.gen(function*() {
      const config = yield* readClientConfig
      const entries = Object.entries(config)
      if (entries.length === 0) {
        const file = yield* clientConfigPath
        return yield* Console.log(`No client settings (${Option.getOrElse(file, () => "no config directory")}).`)
      }
      yield* Console.log(entries.map(([key, value]) => `${key}: ${value}`).join("\n"))
    })
).pipe(Command.withDescription("Print the client settings"))

export const clientCommand = Command.make("client").pipe(
  Command.withDescription("Settings of the ark client itself"),
  Command.withSubcommands([
    Command.make("config").pipe(
      Command.withDescription(
        "Get and set the client config ($XDG_CONFIG_HOME/ark/config.json, else ~/.config/ark/config.json)"
      ),
      Command.withSubcommands([set, get])
    )
  ])
)
