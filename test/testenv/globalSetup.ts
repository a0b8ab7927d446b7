// vitest globalSetup for the integration project: one environment for the whole run.
// ARK_TESTENV_DIR pointing at a running environment (DIR/env exists) reuses it and leaves it up.
import { existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

import { down, envPath, readEnv, up } from "./env.ts"

let started: string | undefined

export const setup = async (): Promise<void> => {
  const reuse = process.env["ARK_TESTENV_DIR"]
  const env = reuse !== undefined && existsSync(envPath(reuse))
    ? readEnv(reuse)
    : await up({
      dir: (started = join(tmpdir(), `ark-testenv-${process.pid}`)),
      clusters: Number(process.env["ARK_TESTENV_CLUSTERS"] ?? "2")
    })
  Object.assign(process.env, env.vars)
}

export const teardown = async (): Promise<void> => {
  if (started !== undefined) await down({ dir: started })
}
