// Builds the `ark` command that bin/ark.mjs runs: src/cli/main.ts and its dependencies as one ESM
// bundle. Bundling tree-shakes `effect` (imported whole it loads ~360 modules, fast-check among
// them) and saves Node stripping types at every start; measured, `ark version` drops from ~190 to
// under 100 MiB and an idle `ark server` from ~190 to ~120 MiB. client-node and the AWS SDKs stay
// outside, imported by the split-off chunks of the commands and stores that use them.
//
// Safe while `ark` processes run from dist/cli: chunks are named by content and only added, and
// main.js is replaced last, by a rename.
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

import { build } from "esbuild"

import { deepImportsPlugin } from "./deepImports.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
const out = join(root, "dist", "cli")
mkdirSync(out, { recursive: true })
const staging = mkdtempSync(join(root, "dist", ".cli-"))

try {
  await build({
    absWorkingDir: root,
    entryPoints: { main: "src/cli/main.ts" },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node22",
    // Whitespace and syntax only: stack traces keep Ark's function names.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "none",
    external: ["@kubernetes/client-node", "@kubernetes/client-node/*", "@aws-sdk/*", "@smithy/*"],
    // Bundled CommonJS dependencies (tar-stream) call require() for Node's own modules.
    banner: {
      js:
        "import { createRequire as __arkRequire } from \"node:module\"; const require = __arkRequire(import.meta.url);"
    },
    plugins: [deepImportsPlugin()],
    logLevel: "warning"
  })
  const files = readdirSync(staging).sort((a, b) => Number(a === "main.js") - Number(b === "main.js"))
  for (const file of files) renameSync(join(staging, file), join(out, file))
} finally {
  rmSync(staging, { recursive: true, force: true })
}
