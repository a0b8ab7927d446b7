import { assert, describe, it } from "@effect/vitest"

import { deepImports } from "../../scripts/deepImports.ts"

const namespaces = new Map([
  ["effect", new Set(["Effect", "Option", "Schema", "Layer"])],
  ["@effect/cli", new Set(["Command", "Options"])]
])

describe("the bundle's deep imports", () => {
  it("turns each namespace imported from a barrel into a namespace import of its module", () => {
    assert.strictEqual(
      deepImports(`import { Effect, Option } from "effect"\n`, namespaces),
      `import * as Effect from "effect/Effect"; import * as Option from "effect/Option"\n`
    )
    assert.strictEqual(
      deepImports(`import { Command, Options } from "@effect/cli"`, namespaces),
      `import * as Command from "@effect/cli/Command"; import * as Options from "@effect/cli/Options"`
    )
  })

  it("keeps other names imported from the index, and aliases and type-only imports as written", () => {
    assert.strictEqual(
      deepImports(`import { Effect as E, pipe, type Layer } from "effect"`, namespaces),
      `import * as E from "effect/Effect"; import type * as Layer from "effect/Layer"; import { pipe } from "effect"`
    )
    assert.strictEqual(
      deepImports(`import type { Schema } from "effect"`, namespaces),
      `import type * as Schema from "effect/Schema"`
    )
  })

  it("reads imports over several lines and leaves other packages and relative imports alone", () => {
    const source =
      `import {\n  Effect,\n  Schema\n} from "effect"\nimport { Effect as X } from "./local.ts"\nimport { Path } from "@effect/platform"\n`
    assert.strictEqual(
      deepImports(source, namespaces),
      `import * as Effect from "effect/Effect"; import * as Schema from "effect/Schema"\nimport { Effect as X } from "./local.ts"\nimport { Path } from "@effect/platform"\n`
    )
  })
})
