// An esbuild plugin for the bundle (scripts/bundle.ts): `import { Effect, Schema } from "effect"`
// becomes `import * as Effect from "effect/Effect"` and so on, in Ark's own sources as it bundles
// them. Imported from the package's index, `Effect` is a namespace object, and esbuild keeps every
// export of a module whose namespace object is used anywhere; esbuild also splits by file, so the
// shared chunk that every `ark` start loads carried all of Schema, Stream, fast-check (through
// Schema's arbitraries) and @effect/cli's YAML/TOML parsers. Through a namespace import, esbuild
// keeps only the members the code uses.
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

import type { Plugin } from "esbuild"

/** The packages whose index re-exports its modules as namespaces (`export * as Effect from ...`). */
const barrels = ["effect", "@effect/cli"] as const

/** The names that `pkg`'s index exports as whole modules, e.g. `Effect` for `effect/Effect`. */
const namespacesOf = (pkg: string): ReadonlySet<string> => {
  const index = readFileSync(fileURLToPath(import.meta.resolve(pkg)), "utf8")
  return new Set(Array.from(index.matchAll(/^export \* as (\w+) from "\.\/(\w+)\.js"/gm), ([, name]) => name!))
}

const namedImport = /^import (type )?\{([^}]*)\} from "([^"]+)"/gm

/**
 * `source` with each named import of a barrel's namespace turned into a namespace import of its
 * module; other names (`pipe`) stay imported from the index, where esbuild tree-shakes them.
 */
export const deepImports = (source: string, namespaces: ReadonlyMap<string, ReadonlySet<string>>): string =>
  source.replace(namedImport, (statement, typeOnly: string | undefined, list: string, pkg: string) => {
    const modules = namespaces.get(pkg)
    if (modules === undefined) return statement
    const kept: Array<string> = []
    const deep: Array<string> = []
    for (const specifier of list.split(",").map((part) => part.trim()).filter((part) => part.length > 0)) {
      const [, type, name, local] = /^(type\s+)?(\w+)(?:\s+as\s+(\w+))?$/.exec(specifier) ?? []
      if (name === undefined || !modules.has(name)) kept.push(specifier)
      else deep.push(`import ${typeOnly ?? type ?? ""}* as ${local ?? name} from "${pkg}/${name}"`)
    }
    const rest = kept.length === 0 ? [] : [`import ${typeOnly ?? ""}{ ${kept.join(", ")} } from "${pkg}"`]
    return [...deep, ...rest].join("; ")
  })

export const deepImportsPlugin = (): Plugin => ({
  name: "deep-imports",
  setup: (build) => {
    const namespaces = new Map(barrels.map((pkg) => [pkg, namespacesOf(pkg)]))
    build.onLoad({ filter: /\.ts$/ }, ({ path }) =>
      path.includes("/node_modules/")
        ? undefined
        : { contents: deepImports(readFileSync(path, "utf8"), namespaces), loader: "ts" })
  }
})
