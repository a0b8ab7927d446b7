import { Schema } from "effect"

import { optional, resource, SecretKeySelector, StringMap, Timestamp, withDefault } from "./common.ts"

export const BackupStorageProvider = Schema.Literal("aws", "filesystem")
export type BackupStorageProvider = typeof BackupStorageProvider.Type

export const AccessMode = Schema.Literal("ReadWrite", "ReadOnly")
export type AccessMode = typeof AccessMode.Type

export const ObjectStorageLocation = Schema.Struct({
  bucket: Schema.String,
  prefix: optional(Schema.String)
})

/** An age X25519 recipient: `age1` and 58 bech32 characters, as age-keygen prints. */
export const AgeRecipient = Schema.String.pipe(
  Schema.pattern(/^age1[02-9ac-hj-np-z]{58}$/, {
    identifier: "AgeRecipient",
    message: () => "expected an age X25519 public key (age1 and 58 more characters, as age-keygen prints)"
  })
)

export const AgeEncryption = Schema.Struct({
  recipients: optional(Schema.Array(AgeRecipient)).annotations({
    description: "age public keys (age1...): every file of a new backup but ark-backup.json is encrypted for each."
  }),
  recipientsSecret: optional(SecretKeySelector).annotations({
    description: "A Secret key holding more recipients, one a line (an age recipients file)."
  }),
  identitySecret: optional(SecretKeySelector).annotations({
    description:
      "A Secret key holding age identities (AGE-SECRET-KEY-1..., one a line, as age-keygen writes): restores decrypt with them. Only a restoring cluster needs it."
  })
})
export type AgeEncryption = typeof AgeEncryption.Type

export const BackupStorageLocationSpec = Schema.Struct({
  provider: Schema.propertySignature(BackupStorageProvider).annotations({
    description: "aws: any S3-compatible store; filesystem: a local directory (config.path)."
  }),
  objectStorage: ObjectStorageLocation,
  config: optional(StringMap).annotations({
    description: "Provider settings: region, s3Url, s3ForcePathStyle; path for filesystem."
  }),
  credential: optional(SecretKeySelector).annotations({
    description: "A Secret key in the server namespace holding an AWS shared-credentials file."
  }),
  accessMode: withDefault(AccessMode, () => "ReadWrite" as const),
  signingKey: optional(SecretKeySelector).annotations({
    description: "A Secret key holding an Ed25519 private key (PEM): the server signs each backup's ark-backup.json."
  }),
  verificationKey: optional(SecretKeySelector).annotations({
    description:
      "A Secret key holding an Ed25519 public key (PEM): backups without a valid signature and intact files are neither imported nor restored."
  }),
  encryption: optional(AgeEncryption).annotations({
    description: "Client-side encryption with age: the server backs up with the public keys only."
  }),
  default: optional(Schema.Boolean).annotations({
    description: "The location `ark backup create` and `ark schedule create` use when none is named; at most one."
  })
})
export type BackupStorageLocationSpec = typeof BackupStorageLocationSpec.Type

export const LocationPhase = Schema.Literal("Available", "Unavailable")
export type LocationPhase = typeof LocationPhase.Type

/**
 * Where a backup is stored: the bucket, the prefix and the id in that prefix's `ark-location.json`
 * (docs/design.md, "Object-storage sync"). Two prefixes never share a marker id.
 */
export const StorageIdentity = Schema.Struct({
  bucket: Schema.String,
  prefix: Schema.String,
  marker: Schema.String
})
export type StorageIdentity = typeof StorageIdentity.Type

export const BackupStorageLocationStatus = Schema.Struct({
  phase: optional(LocationPhase),
  lastSyncedTime: optional(Timestamp),
  lastValidationTime: optional(Timestamp),
  message: optional(Schema.String),
  storageIdentity: optional(StorageIdentity).annotations({
    description: "The bucket, prefix and marker id the last sync found the location pointing at."
  }),
  syncMessage: optional(Schema.String).annotations({
    description: "Why the last sync pruned nothing although Backups' files are missing; absent otherwise."
  })
})
export type BackupStorageLocationStatus = typeof BackupStorageLocationStatus.Type

export const BackupStorageLocation = resource(
  "BackupStorageLocation",
  BackupStorageLocationSpec,
  BackupStorageLocationStatus
)
export type BackupStorageLocation = typeof BackupStorageLocation.Type

export const VolumeSnapshotProvider = Schema.Literal("aws", "local")
export type VolumeSnapshotProvider = typeof VolumeSnapshotProvider.Type

export const VolumeSnapshotLocationSpec = Schema.Struct({
  provider: Schema.propertySignature(VolumeSnapshotProvider).annotations({
    description: "aws: EBS through the EC2 API; local: hostPath copies, for development and tests."
  }),
  config: optional(StringMap).annotations({ description: "Provider settings: region, ec2Url, ..." }),
  credential: optional(SecretKeySelector)
})
export type VolumeSnapshotLocationSpec = typeof VolumeSnapshotLocationSpec.Type

export const VolumeSnapshotLocationStatus = Schema.Struct({
  phase: optional(LocationPhase)
})
export type VolumeSnapshotLocationStatus = typeof VolumeSnapshotLocationStatus.Type

export const VolumeSnapshotLocation = resource(
  "VolumeSnapshotLocation",
  VolumeSnapshotLocationSpec,
  VolumeSnapshotLocationStatus
)
export type VolumeSnapshotLocation = typeof VolumeSnapshotLocation.Type
