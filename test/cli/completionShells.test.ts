// `ark completion bash|zsh|fish` sourced into the real shells, completing through the real `ark`
// entry point. Names from a cluster are in test/integration/cliCompletion.test.ts; here there is
// no cluster at all.
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

import { assert, describe, it } from "@effect/vitest"

import { arkWithoutCluster } from "../support/arkProcess.ts"
import { bashCompletions, fishCompletions, zshCompletedLine } from "../support/shellCompletion.ts"

/** No kubeconfig anywhere, so a lookup of names has nothing to reach. */
const { KUBECONFIG: _kubeconfig, ...withoutKubeconfig } = process.env
const noCluster = { ...withoutKubeconfig, HOME: mkdtempSync(join(tmpdir(), "ark-home-")) }

/** Each completion starts `ark`: tens of seconds apiece on a loaded 2-core machine. */
const completionsTimeout = 600_000

describe("bash completion", () => {
  it("completes the current command's flags, and not other commands' flags", async () => {
    const offered = await bashCompletions("ark backup create --", { env: noCluster })
    assert.includeMembers([...offered], ["--include-namespaces=", "--ttl=", "--storage-location=", "--wait"])
    for (const unrelated of ["--output=", "--details", "--from-backup=", "--confirm"]) {
      assert.notInclude([...offered], unrelated)
    }
  }, completionsTimeout)

  it("completes subcommands, and a choice flag's values after a space and after =", async () => {
    assert.deepStrictEqual(await bashCompletions("ark ba", { env: noCluster }), ["backup", "backup-location"])
    assert.deepStrictEqual(await bashCompletions("ark backup get -o ", { env: noCluster }), ["table", "json", "yaml"])
    // Bash completes only the part after `=`, a word break: the reply is that part.
    assert.deepStrictEqual(await bashCompletions("ark backup get --output=j", { env: noCluster }), ["json"])
  }, completionsTimeout)

  it("completes a path flag's value from the files, and offers nothing, quietly, without a cluster", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ark-completion-"))
    writeFileSync(join(dir, "nightly-data.tar.gz"), "")
    assert.deepStrictEqual(
      await bashCompletions("ark backup download nightly -o nig", { env: noCluster, cwd: dir }),
      ["nightly-data.tar.gz"]
    )
    assert.deepStrictEqual(await bashCompletions("ark backup describe ", { env: noCluster, cwd: dir }), [])
  }, completionsTimeout)

  it("keeps the hidden command out of the help", () => {
    const help = arkWithoutCluster("--help")
    assert.strictEqual(help.status, 0, help.stderr)
    assert.include(help.stdout, "completion")
    assert.notInclude(help.stdout, "__complete")
  }, completionsTimeout)
})

describe("zsh completion", () => {
  it(
    "completes a flag without a trailing space, a choice value after =, and a file, in an interactive zsh",
    async () => {
      assert.strictEqual(
        await zshCompletedLine("ark backup create --tt", { env: noCluster }),
        "ark backup create --ttl=_END_"
      )
      assert.strictEqual(
        await zshCompletedLine("ark backup get --output=y", { env: noCluster }),
        "ark backup get --output=yaml _END_"
      )
      assert.strictEqual(await zshCompletedLine("ark backup-l", { env: noCluster }), "ark backup-location _END_")
      const dir = mkdtempSync(join(tmpdir(), "ark-completion-"))
      writeFileSync(join(dir, "nightly-data.tar.gz"), "")
      assert.strictEqual(
        await zshCompletedLine("ark backup download nightly -o nig", { env: noCluster, cwd: dir }),
        "ark backup download nightly -o nightly-data.tar.gz _END_"
      )
    },
    completionsTimeout
  )
})

describe("fish completion", () => {
  it("completes flags, subcommands and choice values through fish's own complete -C", async () => {
    const flags = await fishCompletions("ark backup create --", { env: noCluster })
    assert.includeMembers([...flags], ["--include-namespaces=", "--ttl=", "--storage-location="])
    assert.notInclude([...flags], "--output=")
    assert.sameMembers([...await fishCompletions("ark backup get -o ", { env: noCluster })], ["table", "json", "yaml"])
    assert.sameMembers([...await fishCompletions("ark ba", { env: noCluster })], ["backup", "backup-location"])
  }, completionsTimeout)
})
