// Every `ark` line in the README's shell examples, run as written through the real entry point, so
// the README cannot drift from the CLI. No cluster is needed: the home holds a kubeconfig with no
// context, so a command that parses its flags and then reaches for the cluster fails with exactly
// that error, while a typo in a flag, a removed command or a bad value fails before it.
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

import { describe, expect, it } from "@effect/vitest"

const root = fileURLToPath(new URL("../../", import.meta.url))
const bin = join(root, "bin/ark.mjs")

/** The lines of the README's ```sh blocks that run `ark` (`npm run ark --` is the same entry point). */
const readmeLines = () => {
  const lines: Array<string> = []
  let inShell = false
  for (const line of readFileSync(join(root, "README.md"), "utf8").split("\n")) {
    if (line.startsWith("```")) inShell = line === "```sh"
    else if (inShell) {
      const command = line.replace(/^npm run ark -- /, "ark ")
      if (/^(ark |source <\(ark )/.test(command)) lines.push(command)
    }
  }
  return lines
}

/** One run of `ark` that a README line made: its arguments, exit status and error output. */
interface Call {
  readonly line: string
  readonly args: string
  readonly status: number
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs one README line in a real bash, where `ark` is a function that runs the entry point and
 * records each call, so quoting, `~`, `;`, comments and redirections mean what they mean to a user.
 */
const runLine = async (line: string, home: string, index: number): Promise<Array<Call>> => {
  const calls = join(home, `calls-${index}`)
  mkdirSync(calls)
  const script = [
    "n=0",
    // stdout goes on to the caller too, for `> file` and `source <(ark completion bash)`.
    `ark() { "$ARK_NODE" "$ARK_BIN" "$@" 2>"$ARK_CALLS/$n.err" | tee "$ARK_CALLS/$n.out"; echo "\${PIPESTATUS[0]}" >"$ARK_CALLS/$n.rc"; printf '%s' "$*" >"$ARK_CALLS/$n.args"; n=$((n+1)); }`,
    line,
    // A sourced completion script must register itself (else bash says so on stderr).
    line.startsWith("source <(ark completion bash)") ? "complete -p ark >/dev/null" : ""
  ].join("\n")
  // Asynchronous, so the test worker keeps answering vitest while the commands run.
  const run = await promisify(execFile)("bash", ["-c", script], {
    cwd: home,
    encoding: "utf8",
    timeout: 170_000,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      PATH: process.env["PATH"],
      HOME: home,
      ARK_NODE: process.execPath,
      ARK_BIN: bin,
      ARK_CALLS: calls
    }
  })
  expect(run.stderr, `${line}: bash itself`).toBe("")
  const count = readdirSync(calls).filter((file) => file.endsWith(".rc")).length
  return Array.from({ length: count }, (_, n) => ({
    line,
    args: readFileSync(join(calls, `${n}.args`), "utf8"),
    status: Number(readFileSync(join(calls, `${n}.rc`), "utf8").trim()),
    stdout: readFileSync(join(calls, `${n}.out`), "utf8"),
    stderr: readFileSync(join(calls, `${n}.err`), "utf8")
  }))
}

describe("the README's ark lines", () => {
  it("each parses as written: it succeeds, or stops only where it needs a cluster", async () => {
    const home = mkdtempSync(join(tmpdir(), "ark-readme-"))
    mkdirSync(join(home, ".kube"))
    writeFileSync(join(home, ".kube/config"), "apiVersion: v1\nkind: Config\n")
    // `ark install --secret-file ./credentials-ark` names a file the user has in the current directory.
    writeFileSync(join(home, "credentials-ark"), "[default]\naws_access_key_id=A\naws_secret_access_key=S\n")

    const lines = readmeLines()
    expect(lines.length).toBeGreaterThan(20)
    const calls: Array<Call> = []
    for (const [index, line] of lines.entries()) calls.push(...(await runLine(line, home, index)))
    expect(calls.length).toBeGreaterThanOrEqual(lines.length)

    for (const call of calls) {
      const where = `README: ${call.line}\nark ${call.args}\n${call.stderr}`
      if (call.status !== 0) {
        // Past parsing: the one error left is that the kubeconfig names no cluster.
        expect(call.status, where).toBe(1)
        expect(call.stderr, where).toMatch(/no current-context in .*\.kube\/config/)
      }
    }
    // The lines that need no cluster do their work.
    const succeeded = calls.filter((call) => call.status === 0).map((call) => call.args)
    expect(succeeded).toEqual(expect.arrayContaining(["--help", "version", "install --dry-run -o yaml"]))
    expect(readFileSync(join(home, "ark.yaml"), "utf8")).toMatch(/kind: Deployment/)
  }, 900_000) // ~30 starts of the CLI, each up to a minute on a loaded 2-core machine
})
