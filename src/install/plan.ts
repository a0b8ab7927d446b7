// What `ark install` installs: manifests/ (or its restore-only variant) rendered as kustomize
// renders it, moved to the chosen namespace and image, plus the default BackupStorageLocation and
// the credentials Secret when asked for. Every flag is checked here, before anything is applied.
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Effect, Either, Option, Schema } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import type { BackupStorageProvider } from "../api/index.ts"
import { BackupStorageLocation } from "../api/index.ts"
import { backupStorageLocationResource } from "../cli/backup/location.ts"
import { CliError } from "../cli/errors.ts"
import { backupStorageConfigKeys, checkBackupStorageConfig, parseConfig } from "../cli/locationConfig.ts"
import { checkNamespaceName } from "../cli/namespace.ts"
import { renderKustomization, setImage, setNamespace } from "./kustomize.ts"

export interface InstallFlags {
  readonly namespace: string
  readonly restoreOnly: boolean
  readonly image: Option.Option<string>
  readonly provider: Option.Option<string>
  readonly bucket: Option.Option<string>
  readonly prefix: Option.Option<string>
  /** Each `--config` value: `k=v[,k=v]`. */
  readonly config: ReadonlyArray<string>
  readonly secretFile: Option.Option<string>
}

/** The Secret a location reads when it names no credential (layers/objectstore/Provider.ts). */
export const credentialsSecretName = "cloud-credentials"
export const credentialsSecretKey = "cloud"
export const defaultLocationName = "default"
/** The image name the manifests run; --image replaces it. */
export const serverImageName = "ark"

const labels = { component: "ark" }

const isProvider = (provider: string): provider is BackupStorageProvider =>
  Object.hasOwn(backupStorageConfigKeys, provider)

export const checkNamespace = (namespace: string): Either.Either<string, CliError> =>
  Either.mapLeft(
    checkNamespaceName(namespace),
    (problem) =>
      new CliError({
        message: `invalid namespace "${namespace}": ${problem}`,
        hint: "for example: ark install --namespace heptio-ark"
      })
  )

const checkImage = (image: Option.Option<string>): Either.Either<Option.Option<string>, CliError> =>
  Option.match(image, {
    onNone: () => Either.right(Option.none()),
    onSome: (reference) =>
      reference !== "" && !/\s/.test(reference)
        ? Either.right(Option.some(reference))
        : Either.left(
          new CliError({
            message: `invalid --image "${reference}"`,
            hint: "give an image reference such as registry.example.com/ark:0.1.0"
          })
        )
  })

/** The BackupStorageLocation `default`, when --bucket is given; every location flag checked. */
export const storageLocation = (flags: InstallFlags): Either.Either<Option.Option<KubeObject>, CliError> =>
  Either.gen(function*() {
    const config = yield* parseConfig(flags.config)
    if (Option.isNone(flags.bucket)) {
      if (Option.isSome(flags.provider)) {
        return yield* Either.left(
          new CliError({
            message: "--provider needs --bucket",
            hint: "for example: ark install --provider aws --bucket ark-backups"
          })
        )
      }
      if (Option.isSome(flags.prefix) || Object.keys(config).length > 0) {
        return yield* Either.left(
          new CliError({
            message: "--prefix and --config describe the backup storage location: they need --bucket and --provider"
          })
        )
      }
      return Option.none()
    }
    const bucket = flags.bucket.value.trim()
    if (Option.isNone(flags.provider)) {
      return yield* Either.left(
        new CliError({
          message: "--bucket needs --provider",
          hint: "--provider aws (any S3-compatible store) or --provider filesystem"
        })
      )
    }
    const provider = flags.provider.value
    if (!isProvider(provider)) {
      return yield* Either.left(
        new CliError({
          message: `unknown provider "${provider}"`,
          hint: "use --provider aws (any S3-compatible store) or --provider filesystem"
        })
      )
    }
    if (bucket === "") {
      return yield* Either.left(
        new CliError({ message: "--bucket must not be empty", hint: "name the bucket (a directory, for filesystem)" })
      )
    }
    yield* checkBackupStorageConfig(provider, config)
    const location = backupStorageLocationResource({
      name: defaultLocationName,
      namespace: flags.namespace,
      provider,
      bucket,
      prefix: flags.prefix,
      config,
      accessMode: "ReadWrite",
      default: true
    })
    const encoded = yield* Either.mapLeft(
      Schema.encodeEither(BackupStorageLocation)(location),
      (error) => new CliError({ message: `invalid backup storage location: ${error.message}` })
    )
    return Option.some({ ...encoded, metadata: { ...encoded.metadata, labels } } as KubeObject)
  })

const readProblem = (error: PlatformError): string =>
  error._tag === "SystemError" && error.reason === "NotFound"
    ? "no such file"
    : error._tag === "SystemError" && error.reason === "PermissionDenied"
    ? "permission denied"
    : error.message

const hasKey = (text: string, key: string) => new RegExp(`^\\s*${key}\\s*=\\s*\\S`, "m").test(text)

/**
 * The Secret `cloud-credentials` holding the file (key `cloud`). The file's content never appears
 * in an error: only its path does.
 */
export const credentialsSecret = (file: string, namespace: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const content = yield* fs.readFile(file).pipe(
      Effect.mapError((error) =>
        new CliError({
          message: `cannot read --secret-file ${file}: ${readProblem(error)}`,
          hint: "pass a readable AWS shared-credentials file"
        })
      )
    )
    if (content.length === 0) {
      return yield* new CliError({
        message: `--secret-file ${file} is empty`,
        hint: "pass an AWS shared-credentials file"
      })
    }
    const text = new TextDecoder().decode(content)
    if (!hasKey(text, "aws_access_key_id") || !hasKey(text, "aws_secret_access_key")) {
      return yield* new CliError({
        message:
          `--secret-file ${file} is not an AWS shared-credentials file: it needs aws_access_key_id and aws_secret_access_key`,
        hint:
          "the format of ~/.aws/credentials: a [default] section with aws_access_key_id = … and aws_secret_access_key = …"
      })
    }
    const secret: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: credentialsSecretName, namespace, labels },
      type: "Opaque",
      data: { [credentialsSecretKey]: Buffer.from(content).toString("base64") }
    }
    return secret
  })

/** The order objects are applied in: CRDs first, the Deployment last, so the server starts with everything in place. */
const applyOrder = [
  "CustomResourceDefinition",
  "Namespace",
  "ServiceAccount",
  "Secret",
  "ClusterRole",
  "ClusterRoleBinding",
  "Role",
  "RoleBinding",
  "BackupStorageLocation"
]

const rank = (object: KubeObject) => {
  if (object.kind === "Deployment") return applyOrder.length + 1
  const index = applyOrder.indexOf(object.kind)
  return index < 0 ? applyOrder.length : index
}

export const sortForApply = (objects: ReadonlyArray<KubeObject>): ReadonlyArray<KubeObject> =>
  [...objects].sort((a, b) => rank(a) - rank(b))

/** manifests/ of this package, next to src/ wherever Ark is installed. */
export const packageManifests = Effect.gen(function*() {
  const path = yield* Path.Path
  return yield* path.fromFileUrl(new URL("../../manifests", import.meta.url))
}).pipe(Effect.orDie)

/** Everything `ark install` would apply, in apply order; fails on the first bad flag. */
export const planInstall = Effect.fn("Install.plan")(function*(flags: InstallFlags, manifests?: string) {
  const path = yield* Path.Path
  const namespace = yield* checkNamespace(flags.namespace)
  const image = yield* checkImage(flags.image)
  const location = yield* storageLocation(flags)
  const secret = Option.isSome(flags.secretFile)
    ? Option.some(yield* credentialsSecret(flags.secretFile.value, namespace))
    : Option.none<KubeObject>()
  const root = manifests ?? (yield* packageManifests)
  const directory = flags.restoreOnly ? path.join(root, "restore-only") : root
  const rendered = yield* renderKustomization(directory).pipe(
    Effect.mapError((error) =>
      new CliError({
        message: `the manifests are broken: ${error.path}: ${error.message}`,
        hint: "reinstall Ark; manifests/ ships with it"
      })
    )
  )
  const placed = setNamespace(rendered, namespace)
  const imaged = Option.match(image, {
    onNone: () => placed,
    onSome: (reference) => setImage(placed, serverImageName, reference)
  })
  return sortForApply([...imaged, ...Option.toArray(secret), ...Option.toArray(location)])
})
