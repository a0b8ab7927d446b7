// `npm run gen:manifests`: writes manifests/crds/ from the Schemas in src/api.
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect } from "effect"

import { renderCrdFiles } from "./crd.ts"

/** manifests/crds/ of this checkout, wherever the command is run from. */
export const crdDirectory = Effect.gen(function*() {
  const path = yield* Path.Path
  const here = yield* path.fromFileUrl(new URL(".", import.meta.url))
  return path.join(here, "..", "..", "..", "manifests", "crds")
})

const generate = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const directory = yield* crdDirectory
  const files = renderCrdFiles()
  yield* fs.makeDirectory(directory, { recursive: true })
  // Drop CRDs of kinds that no longer exist, so the directory is exactly what the schemas say.
  const wanted = new Set(files.map((file) => file.name))
  for (const name of yield* fs.readDirectory(directory)) {
    if (name.endsWith(".yaml") && !wanted.has(name)) yield* fs.remove(path.join(directory, name))
  }
  for (const file of files) {
    yield* fs.writeFileString(path.join(directory, file.name), file.content)
  }
  yield* Console.log(`wrote ${files.length} files to ${directory}`)
})

if (import.meta.main) {
  generate.pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain)
}
