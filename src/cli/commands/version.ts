import { Command } from "@effect/cli"
import { Console } from "effect"

import packageJson from "../../../package.json" with { type: "json" }
import { group, version as apiVersion } from "../../api/common.ts"

export const arkVersion = packageJson.version

export const versionCommand = Command.make(
  "version",
  {},
  () => Console.log(`ark ${arkVersion}\nAPI ${group}/${apiVersion}\nnode ${process.versions.node}`)
).pipe(Command.withDescription("Print Ark's version"))
