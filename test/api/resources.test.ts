import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either, Schema } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import {
  Backup,
  BackupStorageLocation,
  DeleteBackupRequest,
  DownloadRequest,
  formatDecodeError,
  kindList,
  Restore,
  Schedule,
  toTimestamp,
  VolumeSnapshotLocation
} from "../../src/api/index.ts"
import { resourceSchema } from "../../src/api/manifests/crd.ts"
import { violations } from "./openapi.ts"

// What the API server hands back is what Ark writes: the encoded form is a KubeObject.
const asKubeObject = (backup: typeof Backup.Encoded): KubeObject => backup

const decode = <A, I>(schema: Schema.Schema<A, I>, input: unknown) =>
  Either.mapLeft(
    Schema.decodeUnknownEither(schema, { errors: "all" })(input),
    (error) => formatDecodeError(error).join("\n")
  )

const metadata = { name: "nightly", namespace: "heptio-ark" }
const object = (kind: string, spec: unknown, status?: unknown) => ({
  apiVersion: "ark.heptio.com/v1",
  kind,
  metadata,
  spec,
  ...(status === undefined ? {} : { status })
})

describe("round trips", () => {
  for (const info of kindList) {
    const schema = info.schema
    const openApi = resourceSchema(schema)
    it.prop(`${info.kind}: decode(JSON(encode(x))) = x, and the CRD accepts and keeps the encoded form`, {
      value: schema
    }, ({ value }) => {
      const encoded: unknown = Schema.encodeSync(schema)(value)
      const json: unknown = JSON.parse(JSON.stringify(encoded))
      assert.deepStrictEqual(json, encoded)
      const decoded: unknown = Schema.decodeUnknownSync(schema)(json)
      assert.deepStrictEqual(decoded, value)
      assert.deepStrictEqual(Schema.encodeSync(schema)(decoded), encoded)
      // metadata is the API server's own schema, not the CRD's.
      assert.deepStrictEqual(violations(openApi, { ...Schema.encodeSync(schema)(value), metadata: {} }), [])
    }, { fastCheck: { numRuns: 60 } })
  }
})

describe("documented examples decode", () => {
  it("a Backup with an empty spec gets the documented defaults", () => {
    const backup = Schema.decodeUnknownSync(Backup)(object("Backup", {}))
    assert.deepStrictEqual(backup.spec, {
      includedNamespaces: ["*"],
      includedResources: ["*"],
      snapshotVolumes: true,
      ttl: "720h",
      storageLocation: "default"
    })
    assert.deepStrictEqual(asKubeObject(Schema.encodeSync(Backup)(backup)).metadata, metadata)
  })

  it("a Backup with filters, selectors, hooks and status", () => {
    const input = object("Backup", {
      includedNamespaces: ["abc", "123"],
      excludedNamespaces: ["kube-system"],
      includedResources: ["pods", "deployments.apps", "deploy", "widgets.example.com"],
      labelSelector: {
        matchLabels: { app: "web" },
        matchExpressions: [{ key: "tier", operator: "In", values: ["db"] }]
      },
      orLabelSelectors: [{ matchLabels: { app: "cache" } }],
      includeClusterResources: false,
      snapshotVolumes: false,
      ttl: "1h30m",
      storageLocation: "minio",
      volumeSnapshotLocations: ["ebs"],
      hooks: {
        resources: [{
          name: "freeze",
          includedNamespaces: ["abc"],
          labelSelector: { matchExpressions: [{ key: "app", operator: "Exists" }] },
          pre: [{
            exec: { container: "db", command: ["/sbin/fsfreeze", "--freeze", "/data"], onError: "Fail", timeout: "30s" }
          }],
          post: [{ exec: { command: ["/sbin/fsfreeze", "--unfreeze", "/data"], onError: "Continue" } }]
        }]
      }
    }, {
      phase: "Completed",
      startTimestamp: "2024-05-01T12:00:00Z",
      completionTimestamp: "2024-05-01T12:01:30Z",
      expiration: "2024-05-31T12:01:30Z",
      progress: { totalItems: 10, itemsBackedUp: 10 },
      warnings: 1,
      errors: 0,
      volumeSnapshotsAttempted: 2,
      volumeSnapshotsCompleted: 2,
      resourceVersion: "123456",
      consistency: "Exact",
      formatVersion: "1.1.0"
    })
    const backup = Schema.decodeUnknownSync(Backup)(input)
    assert.deepStrictEqual<unknown>(Schema.encodeSync(Backup)(backup), input)
  })

  it("a Restore with several namespace mappings", () => {
    const restore = Schema.decodeUnknownSync(Restore)(
      object("Restore", {
        backupName: "nightly",
        namespaceMapping: { abc: "def", "123": "456" },
        existingResourcePolicy: "update"
      })
    )
    assert.deepStrictEqual(restore.spec, {
      backupName: "nightly",
      namespaceMapping: { abc: "def", "123": "456" },
      restorePVs: true,
      existingResourcePolicy: "update"
    })
  })

  it("a Restore of a schedule's latest backup defaults to keeping live objects", () => {
    const restore = Schema.decodeUnknownSync(Restore)(object("Restore", { scheduleName: "nightly", restorePVs: false }))
    assert.deepStrictEqual(restore.spec, { scheduleName: "nightly", restorePVs: false, existingResourcePolicy: "none" })
  })

  it("a Schedule whose template gets the Backup defaults", () => {
    const schedule = Schema.decodeUnknownSync(Schedule)(
      object("Schedule", { schedule: "@every 6h", template: { ttl: "72h" }, paused: true }, {
        phase: "Enabled",
        lastBackup: "2024-05-01T12:00:00Z"
      })
    )
    assert.strictEqual(schedule.spec.template.ttl, "72h")
    assert.deepStrictEqual(schedule.spec.template.includedNamespaces, ["*"])
    assert.strictEqual(schedule.status?.phase, "Enabled")
  })

  it("storage and snapshot locations", () => {
    const aws = Schema.decodeUnknownSync(BackupStorageLocation)(object("BackupStorageLocation", {
      provider: "aws",
      objectStorage: { bucket: "ark", prefix: "cluster-a" },
      config: { region: "minio", s3Url: "http://127.0.0.1:9000", s3ForcePathStyle: "true" },
      credential: { name: "cloud-credentials", key: "cloud" }
    }, { phase: "Available", lastSyncedTime: "2024-05-01T12:00:00Z" }))
    assert.strictEqual(aws.spec.accessMode, "ReadWrite")
    const filesystem = Schema.decodeUnknownSync(BackupStorageLocation)(object("BackupStorageLocation", {
      provider: "filesystem",
      objectStorage: { bucket: "ark" },
      config: { path: "/var/lib/ark" },
      accessMode: "ReadOnly"
    }))
    assert.strictEqual(filesystem.spec.accessMode, "ReadOnly")
    const local = Schema.decodeUnknownSync(VolumeSnapshotLocation)(
      object("VolumeSnapshotLocation", { provider: "local" })
    )
    assert.strictEqual(local.spec.provider, "local")
  })

  it("deletion and download requests", () => {
    const deletion = Schema.decodeUnknownSync(DeleteBackupRequest)(
      object("DeleteBackupRequest", { backupName: "nightly" }, {
        phase: "Processed",
        errors: ["snapshot snap-1: not found"]
      })
    )
    assert.strictEqual(deletion.spec.backupName, "nightly")
    for (const kind of ["BackupContents", "BackupLog", "BackupResourceList", "RestoreLog", "RestoreResults"]) {
      const request = Schema.decodeUnknownSync(DownloadRequest)(
        object("DownloadRequest", { target: { kind, name: "nightly" } }, {
          phase: "Processed",
          downloadURL: "https://s3/x?sig",
          expiration: "2024-05-01T12:10:00Z"
        })
      )
      assert.strictEqual(request.spec.target.kind, kind)
    }
  })

  it("both labelSelector and orLabelSelectors is a validation matter, not a schema error", () => {
    const both = decode(
      Backup,
      object("Backup", { labelSelector: { matchLabels: { a: "b" } }, orLabelSelectors: [{ matchLabels: { c: "d" } }] })
    )
    assert.isTrue(Either.isRight(both))
  })

  it("unknown metadata fields are carried through", () => {
    const input = {
      ...object("Backup", {}),
      metadata: { ...metadata, managedFields: [{ manager: "kubectl" }], generation: 2 }
    }
    const backup = Schema.decodeUnknownSync(Backup)(input)
    assert.deepStrictEqual(Schema.encodeSync(Backup)(backup).metadata, input.metadata)
  })

  it("toTimestamp writes metav1.Time's format", () => {
    assert.strictEqual(toTimestamp(DateTime.unsafeMake(Date.UTC(2024, 4, 1, 12, 0, 0, 250))), "2024-05-01T12:00:00Z")
  })
})

describe("bad input fails with a readable message", () => {
  it("lists every problem, one line each", () => {
    const result = decode(Backup, object("Backup", { ttl: "1d", snapshotVolumes: "yes" }, { phase: "Bogus" }))
    assert.deepStrictEqual(Either.isLeft(result) ? result.left.split("\n") : [], [
      "spec.snapshotVolumes: Expected boolean, actual \"yes\"",
      "spec.ttl: expected a Go duration such as 72h, 30m or 1h30m, got \"1d\"",
      "status.phase: expected one of \"New\", \"FailedValidation\", \"InProgress\", \"Completed\", \"PartiallyFailed\", \"Failed\", \"Deleting\", got \"Bogus\""
    ])
  })

  const cases: ReadonlyArray<
    {
      readonly name: string
      readonly schema: Schema.Schema.AnyNoContext
      readonly input: unknown
      readonly message: string
    }
  > = [
    {
      name: "unknown backup phase",
      schema: Backup,
      input: object("Backup", {}, { phase: "Bogus" }),
      message:
        "status.phase: expected one of \"New\", \"FailedValidation\", \"InProgress\", \"Completed\", \"PartiallyFailed\", \"Failed\", \"Deleting\", got \"Bogus\""
    },
    {
      name: "ttl 1d",
      schema: Backup,
      input: object("Backup", { ttl: "1d" }),
      message: "spec.ttl: expected a Go duration such as 72h, 30m or 1h30m, got \"1d\""
    },
    {
      name: "hook onError Ignore",
      schema: Backup,
      input: object("Backup", {
        hooks: { resources: [{ name: "h", pre: [{ exec: { command: ["x"], onError: "Ignore" } }] }] }
      }),
      message: "spec.hooks.resources[0].pre[0].exec.onError: expected one of \"Continue\", \"Fail\", got \"Ignore\""
    },
    {
      name: "hook without a command",
      schema: Backup,
      input: object("Backup", { hooks: { resources: [{ name: "h", pre: [{ exec: { command: [] } }] }] } }),
      message: "spec.hooks.resources[0].pre[0].exec.command: Expected an array of at least 1 item(s), actual []"
    },
    {
      name: "selector operator",
      schema: Backup,
      input: object("Backup", { labelSelector: { matchExpressions: [{ key: "a", operator: "Gt" }] } }),
      message:
        "spec.labelSelector.matchExpressions[0].operator: expected one of \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\", got \"Gt\""
    },
    {
      name: "negative count",
      schema: Backup,
      input: object("Backup", {}, { warnings: -1 }),
      message: "status.warnings: Expected a non-negative number, actual -1"
    },
    {
      name: "bad timestamp",
      schema: Backup,
      input: object("Backup", {}, { expiration: "tomorrow" }),
      message: "status.expiration: expected an RFC 3339 time such as 2024-05-01T12:00:00Z, got \"tomorrow\""
    },
    {
      name: "wrong kind",
      schema: Backup,
      input: object("Restore", {}),
      message: "kind: Expected \"Backup\", actual \"Restore\""
    },
    {
      name: "wrong apiVersion",
      schema: Backup,
      input: { ...object("Backup", {}), apiVersion: "velero.io/v1" },
      message: "apiVersion: Expected \"ark.heptio.com/v1\", actual \"velero.io/v1\""
    },
    {
      name: "restore policy replace",
      schema: Restore,
      input: object("Restore", { backupName: "b", existingResourcePolicy: "replace" }),
      message: "spec.existingResourcePolicy: expected one of \"none\", \"update\", got \"replace\""
    },
    {
      name: "restore phase Deleting",
      schema: Restore,
      input: object("Restore", {}, { phase: "Deleting" }),
      message:
        "status.phase: expected one of \"New\", \"FailedValidation\", \"InProgress\", \"Completed\", \"PartiallyFailed\", \"Failed\", got \"Deleting\""
    },
    {
      name: "schedule without template",
      schema: Schedule,
      input: object("Schedule", { schedule: "@daily" }),
      message: "spec.template: is missing"
    },
    {
      name: "access mode WriteOnly",
      schema: BackupStorageLocation,
      input: object("BackupStorageLocation", {
        provider: "aws",
        objectStorage: { bucket: "b" },
        accessMode: "WriteOnly"
      }),
      message: "spec.accessMode: expected one of \"ReadWrite\", \"ReadOnly\", got \"WriteOnly\""
    },
    {
      name: "storage provider gcp",
      schema: BackupStorageLocation,
      input: object("BackupStorageLocation", { provider: "gcp", objectStorage: { bucket: "b" } }),
      message: "spec.provider: expected one of \"aws\", \"filesystem\", got \"gcp\""
    },
    {
      name: "snapshot provider filesystem",
      schema: VolumeSnapshotLocation,
      input: object("VolumeSnapshotLocation", { provider: "filesystem" }),
      message: "spec.provider: expected one of \"aws\", \"local\", got \"filesystem\""
    },
    {
      name: "delete request without a backup",
      schema: DeleteBackupRequest,
      input: object("DeleteBackupRequest", {}),
      message: "spec.backupName: is missing"
    },
    {
      name: "download of an unknown target",
      schema: DownloadRequest,
      input: object("DownloadRequest", { target: { kind: "BackupVolumes", name: "b" } }),
      message:
        "spec.target.kind: expected one of \"BackupContents\", \"BackupLog\", \"BackupResourceList\", \"RestoreLog\", \"RestoreResults\", got \"BackupVolumes\""
    }
  ]
  for (const { name, schema, input, message } of cases) {
    it(name, () => {
      const result = decode(schema, input)
      assert.isTrue(Either.isLeft(result), `${name} decoded`)
      assert.strictEqual(Either.isLeft(result) ? result.left : "", message)
    })
  }
})
