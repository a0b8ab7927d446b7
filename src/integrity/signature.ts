// Ed25519 signatures over a backup's ark-backup.json. The signature sits beside it as
// `ark-backup.json.sig` (base64), written just before the commit; a cluster holding only the public
// key checks it before it imports or restores the backup. The keys live in Secrets that the
// location names, so rotating one is editing a Secret.
import type { KeyObject } from "node:crypto"
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto"

import { Data, Effect, Option } from "effect"

import type { KubeClient } from "../../services/KubeClient.ts"
import type { BackupStorageLocation } from "../api/locations.ts"
import type { SecretRef } from "./secrets.ts"
import { readSecretText } from "./secrets.ts"

export const signatureKeyOf = (metadataKey: string) => `${metadataKey}.sig`

/** A location's signing or verification key cannot be used: the Secret, its key, or its contents. */
export class SigningKeyError extends Data.TaggedError("SigningKeyError")<{ readonly message: string }> {}

/** The keys a location names; each absent when the location names none. */
export interface LocationKeys {
  readonly signing: Option.Option<KeyObject>
  readonly verification: Option.Option<KeyObject>
}

const secretText = (kube: KubeClient.Shape, namespace: string, ref: SecretRef) =>
  readSecretText(kube, namespace, ref).pipe(Effect.mapError((error) => new SigningKeyError({ message: error.message })))

const ed25519 = (what: string, ref: { readonly name: string }, parse: () => KeyObject) =>
  Effect.try({
    try: parse,
    catch: () => new SigningKeyError({ message: `Secret ${ref.name}: the ${what} is not a PEM key` })
  }).pipe(
    Effect.filterOrFail(
      (key) => key.asymmetricKeyType === "ed25519",
      (key) =>
        new SigningKeyError({
          message: `Secret ${ref.name}: the ${what} is ${key.asymmetricKeyType ?? "not"} an Ed25519 key`
        })
    )
  )

/** Reads the location's signing and verification keys from its namespace's Secrets. */
export const readLocationKeys = (kube: KubeClient.Shape, location: BackupStorageLocation) =>
  Effect.gen(function*() {
    const namespace = location.metadata.namespace ?? ""
    const { signingKey, verificationKey } = location.spec
    const signing = signingKey === undefined ? Option.none<KeyObject>() : Option.some(
      yield* secretText(kube, namespace, signingKey).pipe(
        Effect.flatMap((pem) => ed25519("signing key", signingKey, () => createPrivateKey(pem)))
      )
    )
    const verification = verificationKey === undefined ? Option.none<KeyObject>() : Option.some(
      yield* secretText(kube, namespace, verificationKey).pipe(
        // A private key holds its public half: accept either, so one Secret can serve both.
        Effect.flatMap((pem) => ed25519("verification key", verificationKey, () => createPublicKey(pem)))
      )
    )
    return { signing, verification } satisfies LocationKeys
  })

/** The base64 signature of `bytes`. */
export const signBytes = (key: KeyObject, bytes: Uint8Array): string => sign(null, bytes, key).toString("base64")

export const signatureMatches = (key: KeyObject, bytes: Uint8Array, signature: string): boolean => {
  try {
    return verify(null, bytes, key, Buffer.from(signature.trim(), "base64"))
  } catch {
    return false
  }
}
