// Kubernetes version priority (apimachinery's CompareKubeAwareVersionStrings): GA before beta
// before alpha, higher numbers first, then any other string in lexical order. Discovery uses it
// to pick a group's preferred version.

interface KubeVersion {
  readonly major: number
  /** 2 GA, 1 beta, 0 alpha. */
  readonly stability: number
  readonly minor: number
}

const KUBE_VERSION = /^v([1-9][0-9]*)(?:(alpha|beta)([1-9][0-9]*))?$/

const parse = (version: string): KubeVersion | undefined => {
  const match = KUBE_VERSION.exec(version)
  if (match === null) return undefined
  return {
    major: Number(match[1]),
    stability: match[2] === undefined ? 2 : match[2] === "beta" ? 1 : 0,
    minor: match[3] === undefined ? 0 : Number(match[3])
  }
}

/** Negative when `a` has priority over `b` (sorts before it). */
export const compareVersionPriority = (a: string, b: string): number => {
  const va = parse(a)
  const vb = parse(b)
  if (va === undefined && vb === undefined) return a < b ? -1 : a > b ? 1 : 0
  if (va === undefined) return 1
  if (vb === undefined) return -1
  if (va.stability !== vb.stability) return vb.stability - va.stability
  if (va.major !== vb.major) return vb.major - va.major
  return vb.minor - va.minor
}

/** Versions from most to least preferred. */
export const sortByPriority = (versions: Iterable<string>): Array<string> => [...versions].sort(compareVersionPriority)

/** The preferred version of a group, or undefined when it has none. */
export const preferredVersion = (versions: Iterable<string>): string | undefined => sortByPriority(versions)[0]
