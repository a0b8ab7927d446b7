// The candidates `ark __complete` prints, decided from Ark's real command tree.
import { Args, Command, Options } from "@effect/cli"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

import { ark } from "../../src/cli/app.ts"
import { commandTree } from "../../src/cli/commandTree.ts"
import type { Completion } from "../../src/cli/completion/candidates.ts"
import { completionOf } from "../../src/cli/completion/candidates.ts"

const tree = commandTree(ark)

/** The completion of the last word of `line` (the words after `ark`). */
const complete = (line: string) => {
  const words = line.split(" ")
  return completionOf(tree, words.slice(0, -1), words.at(-1) ?? "")
}

const wordsOf = (completion: Completion) => {
  assert.strictEqual(completion._tag, "Words", JSON.stringify(completion))
  return completion._tag === "Words" ? completion.words : []
}

describe("completion candidates", () => {
  it("offers the subcommands that start with the typed word", () => {
    assert.deepStrictEqual(wordsOf(complete("ba")), ["backup", "backup-location"])
    assert.deepStrictEqual(wordsOf(complete("backup d")), ["describe", "download", "delete"])
    assert.includeMembers([...wordsOf(complete(""))], ["backup", "restore", "schedule", "completion", "version"])
  })

  it("offers the current command's own flags, long forms, valued ones with =", () => {
    const flags = wordsOf(complete("backup create --"))
    assert.includeMembers([...flags], [
      "--include-namespaces=",
      "--ttl=",
      "--storage-location=",
      "--from-schedule=",
      "--wait",
      "--kubeconfig=",
      "--namespace=",
      "--help"
    ])
    for (const unrelated of ["--output=", "--details", "--from-backup=", "--confirm", "--dry-run"]) {
      assert.notInclude([...flags], unrelated)
    }
    assert.deepStrictEqual(wordsOf(complete("backup describe --d")), ["--details"])
  })

  it("does not offer a flag already given, in any of its forms", () => {
    const flags = wordsOf(complete("backup create x --ttl 1h -n ark -w --"))
    for (const given of ["--ttl=", "--namespace=", "--wait"]) assert.notInclude([...flags], given)
    assert.include([...flags], "--storage-location=")
  })

  it("offers a choice flag's values after it, after -o, and after --flag=", () => {
    assert.deepStrictEqual(wordsOf(complete("backup get -o ")), ["table", "json", "yaml"])
    assert.deepStrictEqual(wordsOf(complete("backup get --output ")), ["table", "json", "yaml"])
    assert.deepStrictEqual(wordsOf(complete("backup get --output=j")), ["--output=json"])
    assert.deepStrictEqual(wordsOf(complete("restore create --existing-resource-policy=")), [
      "--existing-resource-policy=none",
      "--existing-resource-policy=update"
    ])
    assert.deepStrictEqual(wordsOf(complete("backup create x --snapshot-volumes ")), ["true", "false"])
    assert.deepStrictEqual(wordsOf(complete("completion ")), ["bash", "zsh", "fish"])
  })

  it("leaves a path flag's value to the shell's file completion, and a free text value alone", () => {
    assert.deepStrictEqual(complete("backup download x -o "), { _tag: "Files" })
    assert.deepStrictEqual(complete("backup get --kubeconfig "), { _tag: "Files" })
    assert.deepStrictEqual(wordsOf(complete("backup create x --ttl ")), [])
  })

  it("asks the cluster for the names a NAME argument refers to, with the line's --kubeconfig and --namespace", () => {
    assert.deepStrictEqual(complete("backup describe "), {
      _tag: "Names",
      resource: "backups",
      prefix: "",
      typed: "",
      connection: {}
    })
    assert.deepStrictEqual(complete("backup logs --kubeconfig /k -n web ni"), {
      _tag: "Names",
      resource: "backups",
      prefix: "",
      typed: "ni",
      connection: { kubeconfig: "/k", namespace: "web" }
    })
    assert.deepStrictEqual(complete("backup describe --details --namespace=web --kubeconfig=/k "), {
      _tag: "Names",
      resource: "backups",
      prefix: "",
      typed: "",
      connection: { kubeconfig: "/k", namespace: "web" }
    })
    const resources = [
      ["restore describe ", "restores"],
      ["schedule pause ", "schedules"],
      ["backup-location get ", "backupstoragelocations"],
      ["snapshot-location get ", "volumesnapshotlocations"]
    ] as const
    for (const [line, resource] of resources) {
      const completion = complete(line)
      assert.strictEqual(completion._tag === "Names" ? completion.resource : completion._tag, resource, line)
    }
  })

  it("offers no existing names where a new one is given, nor for a second argument", () => {
    assert.deepStrictEqual(wordsOf(complete("backup create ")), [])
    assert.deepStrictEqual(wordsOf(complete("schedule create ")), [])
    assert.deepStrictEqual(wordsOf(complete("backup describe nightly ")), [])
  })

  it("asks for the names a flag refers to, and completes the last item of a list", () => {
    assert.deepStrictEqual(complete("restore create --from-backup ni"), {
      _tag: "Names",
      resource: "backups",
      prefix: "",
      typed: "ni",
      connection: {}
    })
    assert.deepStrictEqual(complete("backup create x --from-schedule="), {
      _tag: "Names",
      resource: "schedules",
      prefix: "--from-schedule=",
      typed: "",
      connection: {}
    })
    assert.deepStrictEqual(complete("backup create x --volume-snapshot-locations=ebs,lo"), {
      _tag: "Names",
      resource: "volumesnapshotlocations",
      prefix: "--volume-snapshot-locations=ebs,",
      typed: "lo",
      connection: {}
    })
  })

  it.effect("reads any command tree: a command and flag added later need no registration", () =>
    Effect.sync(() => {
      const export_ = Command.make(
        "export",
        {
          name: Args.text({ name: "NAME" }),
          format: Options.choice("format", ["tar", "zip"]).pipe(Options.withAlias("f")),
          force: Options.boolean("force")
        },
        () => Effect.void
      )
      const root = commandTree(
        Command.make("ark").pipe(
          Command.withSubcommands([Command.make("backup").pipe(Command.withSubcommands([export_]))])
        )
      )
      assert.deepStrictEqual(completionOf(root, ["backup"], "e"), { _tag: "Words", words: ["export"] })
      assert.deepStrictEqual(completionOf(root, ["backup", "export"], "--"), {
        _tag: "Words",
        words: ["--format=", "--force", "--help"]
      })
      assert.deepStrictEqual(completionOf(root, ["backup", "export", "-f"], ""), {
        _tag: "Words",
        words: ["tar", "zip"]
      })
      assert.strictEqual(completionOf(root, ["backup", "export"], "")._tag, "Names")
    }))
})
