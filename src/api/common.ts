import { DateTime, Option, Schema } from "effect"

import { goDurationPattern } from "./duration.ts"
import { apiVersion } from "./group.ts"

export { apiVersion, group, version } from "./group.ts"

/**
 * An optional field that is absent rather than `undefined` when unset: the JSON the API server
 * speaks has no `undefined`, and exactOptionalPropertyTypes keeps the TS types honest about it.
 */
export const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/**
 * An optional field the decoder fills in when absent. The CRD generator reads the default back
 * from the schema and publishes it as the OpenAPI `default`, so the API server and Ark agree.
 */
export const withDefault = <S extends Schema.Schema.All>(schema: S, value: () => Schema.Schema.Type<S>) =>
  Schema.optionalWith(schema, { exact: true, default: value })

const rfc3339 = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$/

/**
 * An RFC 3339 time as Kubernetes writes it (`2024-05-01T12:00:00Z`). Kept a string in both the
 * encoded and decoded form; use {@link toTimestamp} / `DateTime.make` to convert.
 */
export const Timestamp = Schema.String.pipe(
  Schema.filter((s) => rfc3339.test(s) && Option.isSome(DateTime.make(s)), {
    identifier: "Timestamp",
    message: (issue) => `expected an RFC 3339 time such as 2024-05-01T12:00:00Z, got ${JSON.stringify(issue.actual)}`,
    jsonSchema: { format: "date-time" },
    arbitrary: () => (fc) =>
      fc.integer({ min: 0, max: 4_102_444_800_000 }).map((millis) => toTimestamp(DateTime.unsafeMake(millis)))
  })
)

/** Formats a time the way metav1.Time does: UTC, whole seconds. */
export const toTimestamp = (time: DateTime.DateTime): string =>
  DateTime.formatIso(DateTime.toUtc(time)).replace(/\.[0-9]+Z$/, "Z")

/** A Go duration string (`72h`, `30m`, `1h30m`); parse it with `parseGoDuration`. */
export const GoDuration = Schema.String.pipe(
  Schema.pattern(goDurationPattern, {
    identifier: "GoDuration",
    message: (issue) => `expected a Go duration such as 72h, 30m or 1h30m, got ${JSON.stringify(issue.actual)}`,
    arbitrary: () => (fc) =>
      fc.oneof(
        fc.constant("0"),
        fc.array(fc.tuple(fc.nat(1000), fc.constantFrom("ns", "us", "µs", "ms", "s", "m", "h")), {
          minLength: 1,
          maxLength: 3
        }).map((terms) => terms.map(([n, unit]) => `${n}${unit}`).join(""))
      )
  })
)

/** Counts in status: items, warnings, errors, snapshots. */
export const Count = Schema.NonNegativeInt

/**
 * A key of a JSON map. JSON allows `__proto__` as a key but a JavaScript object does not keep it as
 * data, so generated examples leave it out (Kubernetes names and label keys cannot be it either).
 */
const MapKey = Schema.String.annotations({
  arbitrary: () => (fc) => fc.string().filter((key) => key !== "__proto__")
})

export const StringMap = Schema.Record({ key: MapKey, value: Schema.String })

/** metav1.LabelSelectorRequirement. */
export const LabelSelectorRequirement = Schema.Struct({
  key: Schema.String,
  operator: Schema.Literal("In", "NotIn", "Exists", "DoesNotExist"),
  values: optional(Schema.Array(Schema.String))
})

/** metav1.LabelSelector: the requirements are ANDed; an empty selector matches everything. */
export const LabelSelector = Schema.Struct({
  matchLabels: optional(StringMap),
  matchExpressions: optional(Schema.Array(LabelSelectorRequirement))
}).annotations({ description: "A label query over a set of resources (metav1.LabelSelector)." })
export type LabelSelector = typeof LabelSelector.Type

/** A value the API server keeps verbatim: whatever JSON was written. */
const JsonValue = Schema.Unknown.annotations({
  arbitrary: () => (fc) =>
    fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.dictionary(fc.string().filter((key) => key !== "__proto__"), fc.string(), { maxKeys: 3 })
    )
})

export const OwnerReference = Schema.Struct({
  apiVersion: Schema.String,
  kind: Schema.String,
  name: Schema.String,
  uid: Schema.String,
  controller: optional(Schema.Boolean),
  blockOwnerDeletion: optional(Schema.Boolean)
})

/**
 * metav1.ObjectMeta: the fields Ark reads are typed, everything else (managedFields, ...) is
 * carried through untouched. The CRDs publish it as a bare `type: object`: Kubernetes owns its schema.
 */
const typedMetaFields = new Set([
  "name",
  "generateName",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "labels",
  "annotations",
  "finalizers",
  "ownerReferences"
])

/** A key of metadata's other fields: generated examples do not shadow a typed field with any JSON. */
const OtherMetaKey = Schema.String.annotations({
  arbitrary: () => (fc) => fc.string().filter((key) => key !== "__proto__" && !typedMetaFields.has(key))
})

export const ObjectMeta = Schema.Struct(
  {
    name: optional(Schema.String),
    generateName: optional(Schema.String),
    namespace: optional(Schema.String),
    uid: optional(Schema.String),
    resourceVersion: optional(Schema.String),
    generation: optional(Schema.Int),
    creationTimestamp: optional(Timestamp),
    deletionTimestamp: optional(Timestamp),
    labels: optional(StringMap),
    annotations: optional(StringMap),
    finalizers: optional(Schema.Array(Schema.String)),
    ownerReferences: optional(Schema.Array(OwnerReference))
  },
  Schema.Record({ key: OtherMetaKey, value: JsonValue })
)
export type ObjectMeta = typeof ObjectMeta.Type

/** Filters shared by Backup, Restore and backup hooks; entries are namespace / resource names, `*` = all. */
export const NamespaceList = Schema.Array(Schema.String)
export const ResourceList = Schema.Array(Schema.String)

/** A key of a Secret in the server namespace (corev1.SecretKeySelector). */
export const SecretKeySelector = Schema.Struct({
  name: Schema.String,
  key: Schema.String
})

/**
 * A whole custom resource: `{apiVersion, kind, metadata, spec, status?}`. The literal apiVersion
 * and kind make a decode of the wrong kind fail loudly.
 */
export const resource = <
  K extends string,
  Spec extends Schema.Schema.AnyNoContext,
  Status extends Schema.Schema.AnyNoContext
>(kind: K, spec: Spec, status: Status) =>
  Schema.Struct({
    apiVersion: Schema.Literal(apiVersion),
    kind: Schema.Literal(kind),
    metadata: ObjectMeta,
    spec,
    status: optional(status)
  })
