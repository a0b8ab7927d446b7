import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"

import type { JsonPatchErrorReason, JsonPatchOperation } from "../../src/kube/patch.ts"
import { applyJsonPatch, applyMergePatch } from "../../src/kube/patch.ts"

describe("applyMergePatch (RFC 7386)", () => {
  // The examples of RFC 7386 appendix A.
  const cases: ReadonlyArray<readonly [unknown, unknown, unknown]> = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [["a", "b"], ["c", "d"], ["c", "d"]],
    [{ a: "b" }, ["c"], ["c"]],
    [{ a: "foo" }, null, null],
    [{ a: "foo" }, "bar", "bar"],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }]
  ]
  for (const [target, patch, expected] of cases) {
    it(`${JSON.stringify(target)} + ${JSON.stringify(patch)}`, () => {
      assert.deepStrictEqual(applyMergePatch(target, patch), expected)
    })
  }

  it("leaves its inputs alone", () => {
    const target = { a: { b: 1 } }
    const patch = { a: { c: [1] } }
    const result = applyMergePatch(target, patch)
    assert.deepStrictEqual(target, { a: { b: 1 } })
    assert.deepStrictEqual(result, { a: { b: 1, c: [1] } })
    ;(result as { a: { c: Array<number> } }).a.c.push(2)
    assert.deepStrictEqual(patch, { a: { c: [1] } })
  })
})

describe("applyJsonPatch (RFC 6902)", () => {
  const ok: ReadonlyArray<readonly [string, unknown, ReadonlyArray<JsonPatchOperation>, unknown]> = [
    ["add a member", { foo: "bar" }, [{ op: "add", path: "/baz", value: "qux" }], { foo: "bar", baz: "qux" }],
    ["add into an array", { foo: ["bar", "baz"] }, [{ op: "add", path: "/foo/1", value: "qux" }], {
      foo: ["bar", "qux", "baz"]
    }],
    ["append with -", { foo: [1] }, [{ op: "add", path: "/foo/-", value: 2 }], { foo: [1, 2] }],
    ["add at the array end index", { foo: [1] }, [{ op: "add", path: "/foo/1", value: 2 }], { foo: [1, 2] }],
    ["remove a member", { baz: "qux", foo: "bar" }, [{ op: "remove", path: "/baz" }], { foo: "bar" }],
    ["remove an element", { foo: ["bar", "qux", "baz"] }, [{ op: "remove", path: "/foo/1" }], { foo: ["bar", "baz"] }],
    ["replace a value", { baz: "qux", foo: "bar" }, [{ op: "replace", path: "/baz", value: "boo" }], {
      baz: "boo",
      foo: "bar"
    }],
    ["move a value", { foo: { bar: "baz", waldo: "fred" }, qux: { corge: "grault" } }, [{
      op: "move",
      from: "/foo/waldo",
      path: "/qux/thud"
    }], { foo: { bar: "baz" }, qux: { corge: "grault", thud: "fred" } }],
    ["move an element", { foo: ["all", "grass", "cows", "eat"] }, [{ op: "move", from: "/foo/1", path: "/foo/3" }], {
      foo: ["all", "cows", "eat", "grass"]
    }],
    ["copy", { a: { b: [1] } }, [{ op: "copy", from: "/a", path: "/c" }], { a: { b: [1] }, c: { b: [1] } }],
    ["test then replace", { a: { b: [1, { c: 2 }] } }, [{ op: "test", path: "/a/b", value: [1, { c: 2 }] }, {
      op: "replace",
      path: "/a",
      value: 0
    }], { a: 0 }],
    ["escaped pointer tokens", { "a/b": 1, "m~n": 2 }, [{ op: "replace", path: "/a~1b", value: 3 }, {
      op: "remove",
      path: "/m~0n"
    }], { "a/b": 3 }],
    ["replace the whole document", { a: 1 }, [{ op: "replace", path: "", value: [1] }], [1]],
    ["add a null value", { a: 1 }, [{ op: "add", path: "/b", value: null }], { a: 1, b: null }],
    ["set an annotation with a slash", { metadata: { annotations: {} } }, [{
      op: "add",
      path: "/metadata/annotations/ark.heptio.com~1restore-name",
      value: "r"
    }], { metadata: { annotations: { "ark.heptio.com/restore-name": "r" } } }]
  ]
  for (const [name, document, operations, expected] of ok) {
    it(name, () => {
      assert.deepStrictEqual(applyJsonPatch(document, operations), Either.right(expected))
    })
  }

  const failing: ReadonlyArray<
    readonly [string, unknown, ReadonlyArray<JsonPatchOperation>, JsonPatchErrorReason, number]
  > = [
    ["test fails", { a: 1 }, [{ op: "test", path: "/a", value: 2 }], "TestFailed", 0],
    [
      "remove a missing member",
      { a: 1 },
      [{ op: "add", path: "/b", value: 1 }, { op: "remove", path: "/c" }],
      "PathNotFound",
      1
    ],
    ["replace a missing member", { a: 1 }, [{ op: "replace", path: "/b", value: 1 }], "PathNotFound", 0],
    ["add under a missing parent", { a: 1 }, [{ op: "add", path: "/x/y", value: 1 }], "PathNotFound", 0],
    ["add past the array end", { a: [1] }, [{ op: "add", path: "/a/5", value: 1 }], "InvalidIndex", 0],
    ["leading zero index", { a: [1, 2] }, [{ op: "remove", path: "/a/01" }], "PathNotFound", 0],
    ["bad pointer", { a: 1 }, [{ op: "add", path: "a", value: 1 }], "InvalidPointer", 0],
    ["bad escape", { a: 1 }, [{ op: "add", path: "/a~2", value: 1 }], "InvalidPointer", 0],
    ["unknown op", { a: 1 }, [{ op: "merge", path: "/a", value: 1 }], "InvalidOperation", 0],
    ["add without value", { a: 1 }, [{ op: "add", path: "/b" }], "InvalidOperation", 0],
    ["move without from", { a: 1 }, [{ op: "move", path: "/b" }], "InvalidOperation", 0],
    ["move into its own child", { a: { b: 1 } }, [{ op: "move", from: "/a", path: "/a/c" }], "MoveIntoChild", 0]
  ]
  for (const [name, document, operations, reason, index] of failing) {
    it(`fails: ${name}`, () => {
      const result = applyJsonPatch(document, operations)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.strictEqual(result.left.reason, reason)
        assert.strictEqual(result.left.index, index)
      }
    })
  }

  it("never mutates the document, even when a later operation fails", () => {
    const document = { a: [1], b: { c: 1 } }
    applyJsonPatch(document, [{ op: "add", path: "/a/-", value: 2 }, { op: "remove", path: "/b/c" }, {
      op: "test",
      path: "/x",
      value: 1
    }])
    applyJsonPatch(document, [{ op: "add", path: "/a/-", value: 2 }])
    assert.deepStrictEqual(document, { a: [1], b: { c: 1 } })
  })
})
