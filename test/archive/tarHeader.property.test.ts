// The in-place ustar header (the archive writer's common case) is byte for byte the general one,
// which is ustar as tar-stream writes it; and it declines exactly the entries that need more.
import { assert, describe, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"

import { BLOCK, fileHeader, ustarHeaderWriter } from "../../src/archive/tarHeader.ts"

const asciiPath = fc.stringMatching(/^[a-z0-9][a-z0-9./-]{0,110}$/)
const anyPath = fc.oneof(asciiPath, fc.string({ minLength: 1, maxLength: 120, unit: "binary" }))
const size = fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constantFrom(0o77777777777, 0o77777777777 + 1))
const mtimeSeconds = fc.integer({ min: 0, max: 2 ** 33 - 1 })

describe("ustar header writer", () => {
  it.prop("writes what fileHeader builds, at any offset, when the entry fits one block", {
    path: anyPath,
    size,
    mtimeSeconds,
    offset: fc.integer({ min: 0, max: 3 })
  }, ({ mtimeSeconds, offset, path, size }) => {
    const writer = ustarHeaderWriter(mtimeSeconds)
    const general = fileHeader(path, size, mtimeSeconds)
    const fits = writer.fits(path, size)
    const oneBlock = Buffer.byteLength(path) === path.length && path.length <= 100 && size <= 0o77777777777
    assert.strictEqual(fits, oneBlock)
    if (!fits) return
    // Dirty memory around the block: the writer must set every byte of it and nothing else.
    const target = Buffer.alloc(BLOCK + 8, 0xab)
    writer.write(target, offset, path, size)
    assert.isTrue(Either.isRight(general))
    if (Either.isRight(general)) {
      assert.strictEqual(general.right.length, BLOCK)
      assert.deepStrictEqual(target.subarray(offset, offset + BLOCK), general.right)
    }
    assert.isTrue(target.subarray(0, offset).every((byte) => byte === 0xab))
    assert.isTrue(target.subarray(offset + BLOCK).every((byte) => byte === 0xab))
  })
})
