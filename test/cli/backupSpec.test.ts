import { assert, describe, it } from "@effect/vitest"
import { Either, Option } from "effect"

import type { Schedule } from "../../src/api/index.ts"
import type { BackupFlags } from "../../src/cli/backup/spec.ts"
import {
  backupFromSchedule,
  backupSpecFromFlags,
  checkResourceName,
  givenSpecFlags,
  noBackupFlags,
  toLabelSelector
} from "../../src/cli/backup/spec.ts"

const defaults = {
  includedNamespaces: ["*"],
  includedResources: ["*"],
  snapshotVolumes: true,
  ttl: "720h",
  storageLocation: "default"
}

const flags = (overrides: Partial<BackupFlags>): BackupFlags => ({ ...noBackupFlags, ...overrides })

describe("backupSpecFromFlags", () => {
  const cases: ReadonlyArray<readonly [string, Partial<BackupFlags>, Record<string, unknown>]> = [
    ["no flags: the Backup defaults, written out", {}, defaults],
    ["namespaces", { includeNamespaces: ["a", "b"], excludeNamespaces: ["kube-system"] }, {
      ...defaults,
      includedNamespaces: ["a", "b"],
      excludedNamespaces: ["kube-system"]
    }],
    ["resources, group-qualified and short", {
      includeResources: ["deploy", "widgets.example.com"],
      excludeResources: ["secrets"]
    }, {
      ...defaults,
      includedResources: ["deploy", "widgets.example.com"],
      excludedResources: ["secrets"]
    }],
    ["selector", { selector: Option.some("app=web") }, { ...defaults, labelSelector: { matchLabels: { app: "web" } } }],
    ["or-selector: one selector per ' or ' branch", { orSelector: Option.some("app=web or tier in (cache,db)") }, {
      ...defaults,
      orLabelSelectors: [
        { matchLabels: { app: "web" } },
        { matchExpressions: [{ key: "tier", operator: "In", values: ["cache", "db"] }] }
      ]
    }],
    ["cluster resources false, no snapshots", {
      includeClusterResources: Option.some(false),
      snapshotVolumes: Option.some(false)
    }, { ...defaults, includeClusterResources: false, snapshotVolumes: false }],
    ["ttl and locations", {
      ttl: Option.some("1h30m"),
      storageLocation: Option.some("minio"),
      volumeSnapshotLocations: ["ebs-east", "ebs-west"]
    }, { ...defaults, ttl: "1h30m", storageLocation: "minio", volumeSnapshotLocations: ["ebs-east", "ebs-west"] }],
    ["ordered resources", { orderedResources: Option.some("pods=ns1/a,ns1/b;persistentvolumes=pv1") }, {
      ...defaults,
      orderedResources: { pods: "ns1/a,ns1/b", persistentvolumes: "pv1" }
    }]
  ]
  for (const [name, given, expected] of cases) {
    it(name, () => {
      const spec = backupSpecFromFlags(flags(given))
      assert.deepStrictEqual(Either.getOrThrow(spec), expected as never)
    })
  }

  const errors: ReadonlyArray<readonly [string, Partial<BackupFlags>, string, string]> = [
    [
      "a ttl in days",
      { ttl: Option.some("30d") },
      "invalid --ttl \"30d\": expected a Go duration such as 72h, 30m or 1h30m",
      "720h"
    ],
    ["a negative ttl", { ttl: Option.some("-1h") }, "invalid --ttl \"-1h\"", "units are h, m, s"],
    [
      "an unparsable selector",
      { selector: Option.some("app in (web") },
      "invalid --selector \"app in (web\"",
      "selectors look like"
    ],
    ["a bad label key", { selector: Option.some("-app=web") }, "invalid label key \"-app\"", "selectors look like"],
    [
      "--selector with --or-selector",
      { selector: Option.some("app=web"), orSelector: Option.some("a=b or c=d") },
      "--selector and --or-selector cannot be combined",
      "' or ' branch"
    ],
    [
      "an empty --or-selector branch",
      { orSelector: Option.some("a=b or ") },
      "invalid --or-selector \"a=b or \": an empty selector",
      "separate the selectors with ' or '"
    ],
    [
      "a bad --or-selector branch",
      { orSelector: Option.some("a=b or c in (d") },
      "invalid --or-selector \"c in (d\"",
      "separate the selectors with ' or '"
    ],
    [
      "--ordered-resources without '='",
      { orderedResources: Option.some("pods:ns1/a") },
      "invalid --ordered-resources \"pods:ns1/a\": \"pods:ns1/a\" is not resource=names",
      "e.g. --ordered-resources 'pods=ns1/a,ns1/b;persistentvolumes=pv1'"
    ],
    [
      "a numeric comparison",
      { selector: Option.some("tier>2") },
      "'>' is not supported in a backup's label selector",
      "selectors look like"
    ]
  ]
  for (const [name, given, message, hint] of errors) {
    it(`rejects ${name}`, () => {
      const error = Either.flip(backupSpecFromFlags(flags(given))).pipe(Either.getOrThrow)
      assert.include(error.message, message)
      assert.include(error.hint ?? "", hint)
    })
  }
})

describe("toLabelSelector", () => {
  it("maps each operator to metav1.LabelSelector (!= as NotIn)", () => {
    const selector = Either.getOrThrow(toLabelSelector("app=web,tier!=cache,env in (prod,staging),canary,!legacy"))
    assert.deepStrictEqual(selector, {
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "canary", operator: "Exists" },
        { key: "env", operator: "In", values: ["prod", "staging"] },
        { key: "legacy", operator: "DoesNotExist" },
        { key: "tier", operator: "NotIn", values: ["cache"] }
      ]
    })
  })

  it("keeps a repeated equality as an expression instead of dropping it", () => {
    assert.deepStrictEqual(Either.getOrThrow(toLabelSelector("a=1,a=2")), {
      matchLabels: { a: "1" },
      matchExpressions: [{ key: "a", operator: "In", values: ["2"] }]
    })
  })
})

describe("backup names and --from-schedule", () => {
  it("accepts DNS subdomains and rejects the rest with a hint", () => {
    assert.isTrue(Either.isRight(checkResourceName("backup", "nightly-2024.05")))
    const error = Either.flip(checkResourceName("backup", "Nightly_1")).pipe(Either.getOrThrow)
    assert.include(error.message, "invalid backup name \"Nightly_1\"")
    assert.isDefined(error.hint)
  })

  it("names the spec flags the user gave", () => {
    assert.deepStrictEqual(givenSpecFlags(noBackupFlags), [])
    assert.deepStrictEqual(
      givenSpecFlags(flags({ ttl: Option.some("1h"), includeNamespaces: ["a"], snapshotVolumes: Option.some(true) })),
      ["--include-namespaces", "--snapshot-volumes", "--ttl"]
    )
  })

  it("copies the schedule's template and labels the backup with the schedule", () => {
    const schedule: Schedule = {
      apiVersion: "ark.heptio.com/v1",
      kind: "Schedule",
      metadata: { name: "daily", namespace: "heptio-ark" },
      spec: { schedule: "@daily", template: { ...defaults, includedNamespaces: ["shop"] } }
    }
    assert.deepStrictEqual(backupFromSchedule("daily-manual", "heptio-ark", schedule), {
      apiVersion: "ark.heptio.com/v1",
      kind: "Backup",
      metadata: {
        name: "daily-manual",
        namespace: "heptio-ark",
        labels: { "ark.heptio.com/schedule-name": "daily", "ark-schedule": "daily" }
      },
      spec: { ...defaults, includedNamespaces: ["shop"] }
    })
  })
})
