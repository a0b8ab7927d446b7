// RFC 7386 JSON merge patch and RFC 6902 JSON patch over plain JSON values. Pure: inputs are
// never mutated.
import { Data, Either } from "effect"

import type { JsonRecord } from "./json.ts"
import { deepClone, deepEqual, isRecord } from "./json.ts"

export interface JsonPatchOperation {
  readonly op: string
  readonly path: string
  readonly value?: unknown
  readonly from?: string
}

export type JsonPatchErrorReason =
  | "InvalidOperation"
  | "InvalidPointer"
  | "PathNotFound"
  | "InvalidIndex"
  | "TestFailed"
  | "MoveIntoChild"

export class JsonPatchError extends Data.TaggedError("JsonPatchError")<{
  readonly reason: JsonPatchErrorReason
  /** Index of the failing operation in the patch. */
  readonly index: number
  readonly path: string
  readonly message: string
}> {}

/** RFC 7386: objects merge recursively, `null` removes a key, everything else replaces. */
export const applyMergePatch = (target: unknown, patch: unknown): unknown => {
  if (!isRecord(patch)) return deepClone(patch)
  const result: JsonRecord = isRecord(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else result[key] = applyMergePatch(result[key], value)
  }
  return result
}

/** RFC 6901 pointer into reference tokens; "" is the whole document. */
export const parsePointer = (pointer: string): Either.Either<Array<string>, string> => {
  if (pointer === "") return Either.right([])
  if (!pointer.startsWith("/")) return Either.left(`JSON pointer "${pointer}" must start with '/'`)
  const tokens: Array<string> = []
  for (const raw of pointer.slice(1).split("/")) {
    if (/~[^01]|~$/.test(raw)) return Either.left(`JSON pointer "${pointer}" has an invalid '~' escape`)
    tokens.push(raw.replaceAll("~1", "/").replaceAll("~0", "~"))
  }
  return Either.right(tokens)
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/

type Step = Either.Either<unknown, { readonly reason: JsonPatchErrorReason; readonly message: string }>

const notFound = (path: string): Step =>
  Either.left({ reason: "PathNotFound", message: `path "${path}" does not exist` })

/** Resolves the value at tokens, or fails with PathNotFound. */
const resolve = (document: unknown, tokens: ReadonlyArray<string>, path: string): Step => {
  let current = document
  for (const token of tokens) {
    if (Array.isArray(current)) {
      if (!ARRAY_INDEX.test(token) || Number(token) >= current.length) return notFound(path)
      current = current[Number(token)]
    } else if (isRecord(current) && Object.hasOwn(current, token)) {
      current = current[token]
    } else {
      return notFound(path)
    }
  }
  return Either.right(current)
}

/** Mutates `document` (a private copy) and returns the new root. */
const addAt = (document: unknown, tokens: ReadonlyArray<string>, value: unknown, path: string): Step => {
  if (tokens.length === 0) return Either.right(value)
  const parent = resolve(document, tokens.slice(0, -1), path)
  if (Either.isLeft(parent)) return parent
  const last = tokens[tokens.length - 1]!
  const container = parent.right
  if (Array.isArray(container)) {
    if (last === "-") container.push(value)
    else if (ARRAY_INDEX.test(last) && Number(last) <= container.length) container.splice(Number(last), 0, value)
    else return Either.left({ reason: "InvalidIndex", message: `index "${last}" is out of bounds at "${path}"` })
  } else if (isRecord(container)) {
    container[last] = value
  } else {
    return notFound(path)
  }
  return Either.right(document)
}

const removeAt = (document: unknown, tokens: ReadonlyArray<string>, path: string): Step => {
  if (tokens.length === 0) return Either.right(undefined)
  const parent = resolve(document, tokens.slice(0, -1), path)
  if (Either.isLeft(parent)) return parent
  const last = tokens[tokens.length - 1]!
  const container = parent.right
  if (Array.isArray(container)) {
    if (!ARRAY_INDEX.test(last) || Number(last) >= container.length) return notFound(path)
    container.splice(Number(last), 1)
  } else if (isRecord(container) && Object.hasOwn(container, last)) {
    delete container[last]
  } else {
    return notFound(path)
  }
  return Either.right(document)
}

const VALID_OPS = new Set(["add", "remove", "replace", "move", "copy", "test"])

/** Applies RFC 6902 operations in order; any failure fails the whole patch. */
export const applyJsonPatch = (
  document: unknown,
  operations: ReadonlyArray<JsonPatchOperation>
): Either.Either<unknown, JsonPatchError> => {
  let current = deepClone(document)
  for (let index = 0; index < operations.length; index++) {
    const operation = operations[index]!
    const fail = (reason: JsonPatchErrorReason, message: string) =>
      Either.left(
        new JsonPatchError({
          reason,
          index,
          path: operation.path,
          message: `operation ${index} (${operation.op}): ${message}`
        })
      )
    if (!VALID_OPS.has(operation.op)) return fail("InvalidOperation", `unknown op "${operation.op}"`)
    const tokens = parsePointer(operation.path)
    if (Either.isLeft(tokens)) return fail("InvalidPointer", tokens.left)
    const needsValue = operation.op === "add" || operation.op === "replace" || operation.op === "test"
    if (needsValue && !Object.hasOwn(operation, "value")) return fail("InvalidOperation", "missing value")
    let step: Step
    switch (operation.op) {
      case "add":
        step = addAt(current, tokens.right, deepClone(operation.value), operation.path)
        break
      case "remove":
        step = removeAt(current, tokens.right, operation.path)
        break
      case "replace": {
        const removed = removeAt(current, tokens.right, operation.path)
        step = Either.isLeft(removed)
          ? removed
          : addAt(removed.right, tokens.right, deepClone(operation.value), operation.path)
        break
      }
      case "test": {
        const actual = resolve(current, tokens.right, operation.path)
        step = Either.isLeft(actual)
          ? actual
          : deepEqual(actual.right, operation.value)
          ? Either.right(current)
          : Either.left({ reason: "TestFailed", message: `value at "${operation.path}" differs from the expected one` })
        break
      }
      default: {
        // move and copy
        if (operation.from === undefined) return fail("InvalidOperation", "missing from")
        const from = parsePointer(operation.from)
        if (Either.isLeft(from)) return fail("InvalidPointer", from.left)
        const value = resolve(current, from.right, operation.from)
        if (Either.isLeft(value)) {
          step = value
          break
        }
        if (operation.op === "copy") {
          step = addAt(current, tokens.right, deepClone(value.right), operation.path)
          break
        }
        if (operation.path.startsWith(`${operation.from}/`)) {
          return fail("MoveIntoChild", `cannot move "${operation.from}" into its own child "${operation.path}"`)
        }
        const removed = removeAt(current, from.right, operation.from)
        step = Either.isLeft(removed) ? removed : addAt(removed.right, tokens.right, value.right, operation.path)
      }
    }
    if (Either.isLeft(step)) return fail(step.left.reason, step.left.message)
    current = step.right
  }
  return Either.right(current)
}
