// `ark restore create` flags → Restore: namespace mappings, the default name, the defaults written out.
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either, Option } from "effect"

import type { RestoreFlags } from "../../src/cli/restore/spec.ts"
import {
  defaultRestoreName,
  noRestoreFlags,
  parseNamespaceMappings,
  restoreName,
  restoreResource,
  restoreSpecFromFlags
} from "../../src/cli/restore/spec.ts"

const flags = (overrides: Partial<RestoreFlags> = {}): RestoreFlags => ({
  ...noRestoreFlags,
  fromBackup: Option.some("nightly"),
  ...overrides
})

const leftMessage = <A>(either: Either.Either<A, { readonly message: string; readonly hint?: string | undefined }>) =>
  Either.match(either, { onLeft: (error) => ({ message: error.message, hint: error.hint }), onRight: () => undefined })

describe("--namespace-mappings", () => {
  it("parses several old:new pairs, as in the seed's abc→def and 123→456", () => {
    assert.deepStrictEqual(parseNamespaceMappings(["abc:def", "123:456"]), Either.right({ abc: "def", "123": "456" }))
    assert.deepStrictEqual(parseNamespaceMappings([]), Either.right({}))
  })

  it("bad syntax is one line naming the entry, with a hint showing the syntax", () => {
    for (
      const [entry, problem] of [
        ["abc", "expected old:new"],
        ["abc:", "expected old:new"],
        [":def", "expected old:new"],
        ["a:b:c", "expected old:new"],
        ["abc:Def", "\"Def\" is not a valid namespace name"],
        ["under_score:x", "\"under_score\" is not a valid namespace name"]
      ] as const
    ) {
      const error = leftMessage(parseNamespaceMappings([entry]))
      assert.isDefined(error, entry)
      assert.strictEqual(error?.message.split("\n").length, 1)
      assert.include(error?.message ?? "", `invalid --namespace-mappings entry "${entry}": ${problem}`)
      assert.strictEqual(
        error?.hint,
        "give old:new pairs separated by commas, e.g. --namespace-mappings abc:def,123:456"
      )
    }
  })

  it("two sources onto one target, or a target that is also a source, is refused naming them", () => {
    const hint = "map each namespace to its own target, one that is not itself mapped (e.g. a:a-copy,b:b-copy)"
    assert.deepStrictEqual(leftMessage(parseNamespaceMappings(["a:x", "b:x"])), {
      message: "invalid --namespace-mappings: \"a\", \"b\" are all mapped to \"x\"",
      hint
    })
    assert.deepStrictEqual(leftMessage(parseNamespaceMappings(["a:b", "b:c"])), {
      message: "invalid --namespace-mappings: \"b\" is both a target (of \"a\") and mapped to \"c\"",
      hint
    })
    assert.strictEqual(leftMessage(parseNamespaceMappings(["a:x", "b:x", "x:y"]))?.message.split("\n").length, 1)
    // Mapping a namespace onto itself is no chain; swapping two is.
    assert.deepStrictEqual(parseNamespaceMappings(["a:a", "b:c"]), Either.right({ a: "a", b: "c" }))
    assert.isDefined(leftMessage(parseNamespaceMappings(["a:b", "b:a"])))
  })

  it("a namespace mapped twice is refused", () => {
    assert.include(
      leftMessage(parseNamespaceMappings(["abc:def", "abc:ghi"]))?.message ?? "",
      "namespace \"abc\" is mapped twice"
    )
  })
})

describe("the restore's name", () => {
  it("defaults to <backup>-<YYYYMMDDhhmmss> in UTC", () => {
    const time = DateTime.unsafeMake("2024-05-01T09:08:07.654Z")
    assert.strictEqual(defaultRestoreName("nightly", time), "nightly-20240501090807")
    const zoned = DateTime.unsafeMakeZoned("2024-12-31T23:59:59Z", { timeZone: "Asia/Tokyo" })
    assert.strictEqual(defaultRestoreName("b", zoned), "b-20241231235959")
  })

  it("cuts a long backup name so the default stays within 253 characters", () => {
    const time = DateTime.unsafeMake("2024-05-01T09:08:07.654Z")
    const long = defaultRestoreName(`${"a".repeat(237)}.${"b".repeat(15)}`, time)
    assert.strictEqual(long, `${"a".repeat(237)}-20240501090807`)
    assert.lengthOf(long, 252)
  })

  it("a given name is kept when valid and refused when not", () => {
    const time = DateTime.unsafeMake(0)
    const source = { _tag: "Backup", name: "nightly" } as const
    assert.deepStrictEqual(restoreName(Option.some("my-restore"), source, time), Either.right("my-restore"))
    assert.deepStrictEqual(restoreName(Option.none(), source, time), Either.right("nightly-19700101000000"))
    assert.include(
      leftMessage(restoreName(Option.some("My_Restore"), source, time))?.message ?? "",
      "invalid restore name \"My_Restore\""
    )
  })
})

describe("restore spec from flags", () => {
  it("without filters writes the defaults out and names the backup", () => {
    const spec = Either.getOrThrow(restoreSpecFromFlags(flags()))
    assert.deepStrictEqual(spec, { backupName: "nightly", restorePVs: true, existingResourcePolicy: "none" })
    assert.deepStrictEqual(restoreResource("r", "heptio-ark", spec).metadata, {
      name: "r",
      namespace: "heptio-ark",
      labels: { "ark.heptio.com/backup-name": "nightly" }
    })
    const long = "b".repeat(100)
    const labelled = restoreResource("r", "heptio-ark", { ...spec, backupName: long }).metadata
    assert.deepStrictEqual(labelled.annotations, { "ark.heptio.com/backup-name": long })
    assert.lengthOf(labelled.labels?.["ark.heptio.com/backup-name"] ?? "", 63)
  })

  it("carries every flag into the spec", () => {
    const spec = Either.getOrThrow(restoreSpecFromFlags(flags({
      namespaceMappings: ["abc:def", "123:456"],
      includeNamespaces: ["abc", "123"],
      excludeNamespaces: ["kube-system"],
      includeResources: ["deployments.apps", "configmaps"],
      excludeResources: ["secrets"],
      selector: Option.some("app=web"),
      includeClusterResources: Option.some(false),
      restoreVolumes: Option.some(false),
      existingResourcePolicy: "update"
    })))
    assert.deepStrictEqual(spec, {
      backupName: "nightly",
      includedNamespaces: ["abc", "123"],
      excludedNamespaces: ["kube-system"],
      includedResources: ["deployments.apps", "configmaps"],
      excludedResources: ["secrets"],
      namespaceMapping: { abc: "def", "123": "456" },
      labelSelector: { matchLabels: { app: "web" } },
      includeClusterResources: false,
      restorePVs: false,
      existingResourcePolicy: "update"
    })
  })

  it("--from-schedule names the schedule; exactly one source is required", () => {
    const fromSchedule = Either.getOrThrow(
      restoreSpecFromFlags(flags({ fromBackup: Option.none(), fromSchedule: Option.some("daily") }))
    )
    assert.strictEqual(fromSchedule.scheduleName, "daily")
    assert.isUndefined(fromSchedule.backupName)
    assert.include(
      leftMessage(restoreSpecFromFlags(flags({ fromBackup: Option.none() })))?.message ?? "",
      "a restore needs --from-backup NAME or --from-schedule NAME"
    )
    assert.include(
      leftMessage(restoreSpecFromFlags(flags({ fromSchedule: Option.some("daily") })))?.message ?? "",
      "cannot be combined"
    )
  })

  it("a bad selector is one line with a hint", () => {
    const error = leftMessage(restoreSpecFromFlags(flags({ selector: Option.some("app in (") })))
    assert.include(error?.message ?? "", "invalid --selector \"app in (\"")
    assert.isDefined(error?.hint)
  })

  it("--or-selector is Velero's OR of selectors, and not combined with -l", () => {
    const spec = Either.getOrThrow(
      restoreSpecFromFlags(flags({ orSelector: Option.some("app=web or tier in (cache)") }))
    )
    assert.deepStrictEqual(spec.orLabelSelectors, [
      { matchLabels: { app: "web" } },
      { matchExpressions: [{ key: "tier", operator: "In", values: ["cache"] }] }
    ])
    assert.isUndefined(spec.labelSelector)
    const both = leftMessage(
      restoreSpecFromFlags(flags({ selector: Option.some("app=web"), orSelector: Option.some("tier=cache") }))
    )
    assert.strictEqual(both?.message, "--selector and --or-selector cannot be combined: give one or the other")
    const empty = leftMessage(restoreSpecFromFlags(flags({ orSelector: Option.some("app=web or ") })))
    assert.include(empty?.message ?? "", "invalid --or-selector")
  })
})
