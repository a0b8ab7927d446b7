// The namespace Ark's server runs in (resolved by client/config.ts), and the follow-up commands the
// CLI suggests, spelled with that namespace so they work when pasted.
import { Either } from "effect"

export const defaultNamespace = "heptio-ark"

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** A Kubernetes namespace name (a DNS label), or what a name must be. */
export const checkNamespaceName = (namespace: string): Either.Either<string, string> =>
  namespace.length <= 63 && DNS_LABEL.test(namespace)
    ? Either.right(namespace)
    : Either.left("use lowercase letters, digits and '-', at most 63 characters")

/** `ark <command>` as the user should type it next: with `-n NS` when NS is not the default. */
export const arkCommand = (namespace: string, command: string) =>
  namespace === defaultNamespace ? `ark ${command}` : `ark ${command} -n ${namespace}`
