// age (age-encryption.org/v1) over streams, with the age-encryption package (typage, by the author
// of age): X25519 recipients and 64 KiB STREAM chunks sealed one at a time, so a file of any size
// passes in constant memory, and the standard `age` tool decrypts whatever Ark wrote.
import { Decrypter, Encrypter } from "age-encryption"
import { Data, Effect, Either, Option, Runtime, Stream } from "effect"

/** A recipient or identity that cannot be used, or a file that does not decrypt. Never holds a key. */
export class AgeError extends Data.TaggedError("AgeError")<{ readonly message: string }> {}

const reasonOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/** The meaningful lines of an age recipients or identity file: blank lines and `#` comments dropped. */
const keyLines = (text: string) =>
  text.split(/\r?\n/).map((line, index) => ({ number: index + 1, line: line.trim() }))
    .filter(({ line }) => line !== "" && !line.startsWith("#"))

/** Checks each key with `use`, which throws on a malformed one; the error names the line, not the key. */
const parseKeys = (text: string, what: string, hint: string, use: (key: string) => void) => {
  const lines = keyLines(text)
  if (lines.length === 0) return Either.left(new AgeError({ message: `${what}: no key in it (${hint})` }))
  for (const { line, number } of lines) {
    try {
      use(line)
    } catch {
      return Either.left(new AgeError({ message: `${what}: line ${number} is not ${hint}` }))
    }
  }
  return Either.right<ReadonlyArray<string>>(lines.map(({ line }) => line))
}

/** X25519 recipients (`age1...`), one a line, as an age recipients file holds them. */
export const parseRecipients = (text: string, what: string) =>
  parseKeys(text, what, "an age X25519 public key (age1...)", (key) => {
    if (!key.startsWith("age1") || key.startsWith("age1pq") || key.startsWith("age1tag")) throw new Error()
    new Encrypter().addRecipient(key)
  })

/** X25519 identities (`AGE-SECRET-KEY-1...`), one a line, as age-keygen writes them. */
export const parseIdentities = (text: string, what: string) =>
  parseKeys(text, what, "an age X25519 identity (AGE-SECRET-KEY-1...)", (key) => {
    if (!key.startsWith("AGE-SECRET-KEY-1")) throw new Error()
    new Decrypter().addIdentity(key)
  })

/**
 * `body` as a web ReadableStream pulled chunk by chunk, inside the caller's scope: when the stream
 * on the other side ends or fails early, closing the scope stops the body (an open download) too.
 * The web stream carries an untyped reason, so the body's own failure is kept aside to come out of
 * the other end as itself.
 */
const toWeb = <E>(body: Stream.Stream<Uint8Array, E>) =>
  Effect.gen(function*() {
    const pull = yield* Stream.toPull(body)
    const runPromise = Runtime.runPromise(yield* Effect.runtime<never>())
    let failure = Option.none<E>()
    const readable = new ReadableStream<Uint8Array>({
      pull: (controller) =>
        runPromise(pull.pipe(Effect.match({
          onFailure: Option.match({
            onNone: () => controller.close(),
            onSome: (error) => {
              failure = Option.some(error)
              controller.error(error)
            }
          }),
          onSuccess: (chunk) => {
            for (const bytes of chunk) controller.enqueue(bytes)
          }
        })))
    }, { highWaterMark: 0 })
    const failed = (doing: string) => (cause: unknown): E | AgeError =>
      Option.getOrElse(failure, () => new AgeError({ message: `${doing}: ${reasonOf(cause)}` }))
    return { readable, failed }
  })

const fromWeb = <E>(readable: ReadableStream<Uint8Array>, onError: (cause: unknown) => E) =>
  Stream.fromReadableStream({ evaluate: () => readable, onError })

/** `body` encrypted for every recipient, as it streams: the header, then one sealed chunk per 64 KiB. */
export const encrypting = <E>(
  recipients: ReadonlyArray<string>,
  body: Stream.Stream<Uint8Array, E>
): Stream.Stream<Uint8Array, E | AgeError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const encrypter = new Encrypter()
    for (const recipient of recipients) encrypter.addRecipient(recipient)
    const source = yield* toWeb(body)
    const sealed = yield* Effect.tryPromise({
      try: () => encrypter.encrypt(source.readable),
      catch: (cause) => new AgeError({ message: `encrypting: ${reasonOf(cause)}` })
    })
    return fromWeb(sealed, source.failed("encrypting"))
  }))

/** The reason typage gives when no identity opens the header, in the terms of whoever holds the keys. */
const decryptFailure = (cause: unknown) =>
  /no identity matched/.test(reasonOf(cause))
    ? "none of the identity's keys is a recipient of this file (it was encrypted for other keys)"
    : reasonOf(cause)

/**
 * `body` decrypted as it streams. The header is opened before the first byte comes out; a chunk
 * comes out only once it is authenticated, and a changed or truncated file fails at that chunk.
 */
export const decrypting = <E>(
  identities: ReadonlyArray<string>,
  body: Stream.Stream<Uint8Array, E>
): Stream.Stream<Uint8Array, E | AgeError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const decrypter = new Decrypter()
    for (const identity of identities) decrypter.addIdentity(identity)
    const source = yield* toWeb(body)
    const failed = source.failed("decrypting")
    const opened = yield* Effect.tryPromise({
      try: () => decrypter.decrypt(source.readable),
      catch: (cause) => failed(decryptFailure(cause))
    })
    return fromWeb(opened, (cause) => failed(`the file was changed or cut short (${reasonOf(cause)})`))
  }))
