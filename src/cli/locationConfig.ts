// The `--config k=v[,k=v]` flag of `ark install`, `ark backup-location create` and `ark
// snapshot-location create`, parsed and checked the same way everywhere, before anything is created.
import { Either } from "effect"

import type { BackupStorageProvider, VolumeSnapshotProvider } from "../api/index.ts"
import { CliError } from "./errors.ts"
import { mapOption, parseMap } from "./mapFlag.ts"

/** Velero's form: `--config region=us-east-1,s3ForcePathStyle=true`, repeated or not. */
export const configOption = (description: string) => mapOption("config", description)

/** The settings each provider reads (layers/objectstore/Provider.ts, layers/blockstore/Provider.ts). */
export const backupStorageConfigKeys: Record<BackupStorageProvider, ReadonlyArray<string>> = {
  aws: ["region", "s3Url", "s3ForcePathStyle", "profile"],
  filesystem: ["path"]
}

export const volumeSnapshotConfigKeys: Record<VolumeSnapshotProvider, ReadonlyArray<string>> = {
  aws: ["region", "ec2Url", "profile"],
  local: ["path"]
}

/** Every `--config` value split into one map; an entry that is not key=value, or a key given twice, is refused. */
export const parseConfig = (values: ReadonlyArray<string>): Either.Either<Readonly<Record<string, string>>, CliError> =>
  parseMap("config", values, "region=us-east-1,s3ForcePathStyle=true")

/** A key the provider does not read is a typo more often than not: refused, naming what it reads. */
export const checkConfigKeys = (
  provider: string,
  known: ReadonlyArray<string>,
  config: Readonly<Record<string, string>>
): Either.Either<Readonly<Record<string, string>>, CliError> => {
  const unknown = Object.keys(config).filter((key) => !known.includes(key))
  return unknown.length === 0
    ? Either.right(config)
    : Either.left(
      new CliError({
        message: `--config: ${unknown.join(", ")} is not a setting of provider ${provider}`,
        hint: `provider ${provider} understands ${known.join(", ")}`
      })
    )
}

/** Values the server would only refuse later, refused now. */
export const checkBackupStorageConfig = (
  provider: BackupStorageProvider,
  config: Readonly<Record<string, string>>
): Either.Either<Readonly<Record<string, string>>, CliError> =>
  Either.gen(function*() {
    yield* checkConfigKeys(provider, backupStorageConfigKeys[provider], config)
    if (provider === "filesystem" && (config["path"] ?? "") === "") {
      return yield* Either.left(
        new CliError({
          message: "provider filesystem needs --config path=DIR",
          hint: "DIR is the directory that holds the buckets"
        })
      )
    }
    const forcePathStyle = config["s3ForcePathStyle"]
    if (forcePathStyle !== undefined && forcePathStyle !== "true" && forcePathStyle !== "false") {
      return yield* Either.left(
        new CliError({ message: `--config: s3ForcePathStyle must be true or false, got "${forcePathStyle}"` })
      )
    }
    const s3Url = config["s3Url"]
    if (s3Url !== undefined && !isHttpUrl(s3Url)) {
      return yield* Either.left(
        new CliError({
          message: `--config: s3Url must be an http(s) URL, got "${s3Url}"`,
          hint: "for example: s3Url=http://minio.example.com:9000"
        })
      )
    }
    const region = config["region"]
    if (region !== undefined && !/^[A-Za-z0-9_-]+$/.test(region)) {
      return yield* Either.left(
        new CliError({
          message: `--config: region "${region}" is not a region name`,
          hint: "for example: region=us-east-1 (separate settings with commas: region=us-east-1,s3ForcePathStyle=true)"
        })
      )
    }
    return config
  })

const isHttpUrl = (text: string) => {
  try {
    const url = new URL(text)
    return url.protocol === "http:" || url.protocol === "https:"
  } catch {
    return false
  }
}
