// The bytes of one tar entry's header, ustar as tar-stream writes it (a pax `path` record when the
// name does not fit). Written here rather than through tar-stream's pack: a backup writes one entry
// per object, and the pack stream's per-entry machinery cost more than the object's compression.
// The common case (a short ASCII path) is a copy of the archive's template with three fields set,
// straight into the writer's buffer: a fresh block per entry cost as much as compressing it.
import { Either } from "effect"

export const BLOCK = 512

/** Two zero blocks end an archive. */
export const endOfArchive: Uint8Array = new Uint8Array(2 * BLOCK)

const MAX_OCTAL_SIZE = 0o77777777777

const octal = (value: number, digits: number): string => value.toString(8).padStart(digits, "0") + " "

/** The header checksum counts its own 8-byte field as spaces. */
const checksum = (block: Uint8Array): number => {
  let sum = 8 * 32
  for (let i = 0; i < 148; i++) sum += block[i]!
  for (let i = 156; i < BLOCK; i++) sum += block[i]!
  return sum
}

/** `name` as ustar's name and prefix fields, split at a slash; None when it cannot be. */
const ustarName = (path: string): { readonly name: string; readonly prefix: string } | undefined => {
  if (Buffer.byteLength(path) !== path.length) return undefined // not ASCII: pax
  let name = path
  let prefix = ""
  while (name.length > 100) {
    const slash = name.indexOf("/")
    if (slash === -1) return undefined
    prefix += prefix === "" ? name.slice(0, slash) : "/" + name.slice(0, slash)
    name = name.slice(slash + 1)
  }
  return prefix.length > 155 ? undefined : { name, prefix }
}

const block = (name: string, prefix: string, size: number, mtimeSeconds: number, type: "0" | "x"): Buffer => {
  const header = Buffer.alloc(BLOCK)
  header.write(name, 0, 100, "utf8")
  header.write(octal(0o644, 6), 100, "latin1")
  header.write(octal(0, 6), 108, "latin1")
  header.write(octal(0, 6), 116, "latin1")
  header.write(octal(size, 11), 124, "latin1")
  header.write(octal(mtimeSeconds, 11), 136, "latin1")
  header[156] = type.charCodeAt(0)
  header.write("ustar\u000000", 257, "latin1")
  header.write(octal(0, 6), 329, "latin1")
  header.write(octal(0, 6), 337, "latin1")
  if (prefix !== "") header.write(prefix, 345, 155, "latin1")
  header.write(octal(checksum(header), 6), 148, "latin1")
  return header
}

/** A pax record `<length> path=<path>\n`, whose length counts its own digits. */
const paxPath = (path: string): Buffer => {
  const body = ` path=${path}\n`
  const length = Buffer.byteLength(body)
  let digits = String(length).length
  if (length + digits >= 10 ** digits) digits++
  return Buffer.from(`${length + digits}${body}`)
}

/** Zero bytes that round `size` up to whole blocks. */
export const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK

/** Bytes 0–99 hold the name; a longer path needs the prefix field or pax (fileHeader). */
const NAME_BYTES = 100
const SIZE_OFFSET = 124
const CHECKSUM_OFFSET = 148

/** The sum of the latin1 bytes of `text`, or -1 when it is not ASCII. */
const asciiSum = (text: string): number => {
  let sum = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code > 0x7f) return -1
    sum += code
  }
  return sum
}

/** Single ustar header blocks of regular files, written in place. */
export interface UstarHeaderWriter {
  /** Whether the entry's header is one ustar block: `path` ASCII of at most 100 bytes, `size` within ustar's. */
  readonly fits: (path: string, size: number) => boolean
  /** Writes that block into `target` at `offset` (a block of room); only for an entry that `fits`. */
  readonly write: (target: Buffer, offset: number, path: string, size: number) => void
}

/** The header writer of an archive whose entries all have mode 0644 and `mtimeSeconds`. */
export const ustarHeaderWriter = (mtimeSeconds: number): UstarHeaderWriter => {
  const template = block("", "", 0, mtimeSeconds, "0")
  template.fill(0, SIZE_OFFSET, SIZE_OFFSET + 12)
  template.fill(0, CHECKSUM_OFFSET, CHECKSUM_OFFSET + 8)
  const templateSum = checksum(template)
  return {
    fits: (path, size) => path.length <= NAME_BYTES && size <= MAX_OCTAL_SIZE && asciiSum(path) >= 0,
    write: (target, offset, path, size) => {
      const sizeField = octal(size, 11)
      target.set(template, offset)
      target.write(path, offset, "latin1")
      target.write(sizeField, offset + SIZE_OFFSET, "latin1")
      const sum = templateSum + asciiSum(path) + asciiSum(sizeField)
      target.write(octal(sum, 6), offset + CHECKSUM_OFFSET, "latin1")
    }
  }
}

/**
 * The header block(s) of a regular file of `size` bytes at `path`, mode 0644: one ustar block, or a
 * pax header carrying the path followed by the file's block when the path does not fit.
 */
export const fileHeader = (path: string, size: number, mtimeSeconds: number): Either.Either<Buffer, string> => {
  if (size > MAX_OCTAL_SIZE) return Either.left(`entry of ${size} bytes is too large for tar`)
  const fits = ustarName(path)
  if (fits !== undefined) return Either.right(block(fits.name, fits.prefix, size, mtimeSeconds, "0"))
  const pax = paxPath(path)
  return Either.right(Buffer.concat([
    block("PaxHeader", "", pax.length, mtimeSeconds, "x"),
    pax,
    Buffer.alloc(padding(pax.length)),
    block("PaxHeader", "", size, mtimeSeconds, "0")
  ]))
}
