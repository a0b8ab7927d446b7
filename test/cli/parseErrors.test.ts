// What the parser finds wrong is said in Ark's two lines, through the real `ark`, with no cluster
// configured: the error is the command line's, found before anything could be created.
import { describe, expect, it } from "@effect/vitest"

import { arkWithoutCluster } from "../support/arkProcess.ts"

const cases: ReadonlyArray<{ readonly args: ReadonlyArray<string>; readonly stderr: string }> = [
  {
    args: ["backup", "create"],
    stderr: "error: \"ark backup create\" needs the argument NAME\nhint: run \"ark backup create --help\" for usage\n"
  },
  {
    args: ["restore", "logs", "-o", "text"],
    stderr: "error: \"ark restore logs\" needs the argument NAME\nhint: run \"ark restore logs --help\" for usage\n"
  },
  {
    args: ["backup", "describe", "a", "b"],
    stderr: "error: unexpected argument \"b\" for \"ark backup describe\"\n" +
      "hint: run \"ark backup describe --help\" for usage\n"
  },
  {
    args: ["schedule", "create", "nightly", "--schedule"],
    stderr: "error: --schedule needs a value\nhint: run \"ark schedule create --help\" for usage\n"
  },
  {
    args: ["backup-location", "create", "primary"],
    stderr: "error: \"ark backup-location create\" needs --provider and --bucket\n" +
      "hint: run \"ark backup-location create --help\" for usage\n"
  },
  {
    args: ["server", "--backup-concurrency", "two"],
    stderr: "error: invalid value \"two\" for --backup-concurrency: expected a whole number\n" +
      "hint: run \"ark server --help\" for usage\n"
  },
  {
    args: ["server", "--client-qps=fast"],
    stderr:
      "error: invalid value \"fast\" for --client-qps: expected a number\nhint: run \"ark server --help\" for usage\n"
  },
  {
    args: ["completion"],
    stderr: "error: \"ark completion\" needs the argument SHELL (one of bash, zsh, fish)\n" +
      "hint: run \"ark completion --help\" for usage\n"
  },
  {
    args: ["completion", "tcsh"],
    stderr: "error: invalid value \"tcsh\" for SHELL\nhint: use one of bash, zsh, fish\n"
  },
  {
    args: ["restore", "create", "--from-backup", "b", "--existing-resource-policy", "overwrite"],
    stderr: "error: invalid value \"overwrite\" for --existing-resource-policy\nhint: use one of none, update\n"
  },
  {
    args: ["backup", "create", "nightly", "--ttl", "3x"],
    stderr: "error: invalid --ttl \"3x\": expected a Go duration such as 72h, 30m or 1h30m\n" +
      "hint: units are h, m, s, ms, us, ns (no days: 30 days is 720h)\n"
  },
  {
    args: ["backup", "create", "nightly", "--wait=maybe"],
    stderr: "error: invalid value \"maybe\" for --wait: it is a switch, given alone (or =true, =false)\n" +
      "hint: run \"ark backup create --help\" for usage\n"
  },
  {
    args: ["version", "--client-only=yes"],
    stderr: "error: invalid value \"yes\" for --client-only: it is a switch, given alone (or =true, =false)\n" +
      "hint: run \"ark version --help\" for usage\n"
  },
  {
    args: ["schedule", "get", "--nope"],
    stderr: "error: unknown flag \"--nope\" for \"ark schedule get\"\n" +
      "hint: (\"ark schedule get --help\" lists its flags)\n"
  }
]

describe("ark's parse errors", () => {
  for (const { args, stderr } of cases) {
    it(`ark ${args.join(" ")}: one line naming what is wrong, and a hint`, () => {
      const run = arkWithoutCluster(...args)
      expect(run.stderr).toBe(stderr)
      expect(run.stdout).toBe("")
      expect(run.status).not.toBe(0)
    })
  }
})

describe("a switch given =true or =false, as kubectl takes it", () => {
  it("ark version --client-only=true is --client-only; =false is its absence (the server is asked for)", () => {
    const on = arkWithoutCluster("version", "--client-only=true")
    expect(on.status, on.stderr).toBe(0)
    expect(on.stdout).toMatch(/^ark \S+\nAPI \S+\nnode \S+\n$/)
    const off = arkWithoutCluster("version", "--client-only=false")
    expect(off.status, off.stderr).toBe(0)
    expect(off.stdout.startsWith(on.stdout), off.stdout).toBe(true)
    expect(off.stdout).toMatch(/^server: could not be reached/m)
  })
})
