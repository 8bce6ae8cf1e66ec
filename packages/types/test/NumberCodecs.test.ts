import { describe, expect, it } from "@effect/vitest"
import { bool, float4, float8, int2, int4, int8, oid } from "@pgfx/types/NumberCodecs"
import { decode, encode, encodeErrorOf, fromHex, hex, roundTrip } from "./util.ts"

describe("bool", () => {
  it("round trips and has one-byte wire form", () => {
    expect(hex(encode(bool, true))).toBe("01")
    expect(hex(encode(bool, false))).toBe("00")
    expect(roundTrip(bool, true)).toBe(true)
    expect(roundTrip(bool, false)).toBe(false)
  })
  it("text", () => {
    expect(bool.decodeText("t")).toBe(true)
    expect(bool.decodeText("f")).toBe(false)
    expect(bool.encodeText(true)).toBe("t")
  })
  it("rejects non-booleans", () => {
    const e = encodeErrorOf(() => encode(bool, 1))
    expect(e.typeName).toBe("bool")
    expect(e.actualType).toBe("number")
    expect(e.expected).toBe("a boolean")
  })
})

describe("int2 / int4 / oid", () => {
  it("hand-computed bytes", () => {
    expect(hex(encode(int4, 1))).toBe("00000001")
    expect(hex(encode(int4, -1))).toBe("ffffffff")
    expect(hex(encode(int2, -2))).toBe("fffe")
    expect(hex(encode(oid, 4294967295))).toBe("ffffffff")
    expect(decode(int4, fromHex("00000001"))).toBe(1)
    expect(decode(oid, fromHex("ffffffff"))).toBe(4294967295)
  })
  it("round trips extremes", () => {
    for (const n of [0, 1, -1, 32767, -32768]) expect(roundTrip(int2, n)).toBe(n)
    for (const n of [0, 2147483647, -2147483648]) expect(roundTrip(int4, n)).toBe(n)
    for (const n of [0, 1, 4294967295]) expect(roundTrip(oid, n)).toBe(n)
    expect(roundTrip(int4, 7n)).toBe(7)
  })
  it("rejects out of range, non-integers and wrong types", () => {
    const big = encodeErrorOf(() => encode(int4, 2147483648))
    expect(big.typeName).toBe("int4")
    expect(big.actualType).toBe("number")
    expect(big.message).toContain("out of range")
    expect(encodeErrorOf(() => encode(int2, 32768)).typeName).toBe("int2")
    expect(encodeErrorOf(() => encode(int4, 1.5)).message).toContain("not an integer")
    expect(encodeErrorOf(() => encode(int4, NaN)).actualType).toBe("number")
    expect(encodeErrorOf(() => encode(oid, -1)).typeName).toBe("oid")
    expect(encodeErrorOf(() => encode(int4, 2n ** 31n)).actualType).toBe("bigint")
    const s = encodeErrorOf(() => encode(int4, "1"))
    expect(s).toMatchObject({ _tag: "EncodeError", typeName: "int4", actualType: "string" })
    expect(s.expected).toContain("integer")
    expect(encodeErrorOf(() => int4.encodeText(undefined)).actualType).toBe("undefined")
    expect(encodeErrorOf(() => int4.encodeText(null)).actualType).toBe("null")
  })
  it("text", () => {
    expect(int4.decodeText("-2147483648")).toBe(-2147483648)
    expect(int4.encodeText(42)).toBe("42")
    expect(() => int4.decodeText("x")).toThrow()
  })
  it("rejects wrong binary lengths", () => {
    expect(() => decode(int4, fromHex("0001"))).toThrow(/int4/)
  })
})

describe("int8", () => {
  it("round trips bigint extremes", () => {
    for (const n of [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]) expect(roundTrip(int8, n)).toBe(n)
    expect(hex(encode(int8, 1n))).toBe("0000000000000001")
  })
  it("accepts safe-integer numbers", () => {
    expect(roundTrip(int8, Number.MAX_SAFE_INTEGER)).toBe(BigInt(Number.MAX_SAFE_INTEGER))
    expect(roundTrip(int8, -5)).toBe(-5n)
    expect(int8.encodeText(-5)).toBe("-5")
    expect(int8.encodeText(2n ** 63n - 1n)).toBe("9223372036854775807")
  })
  it("rejects unsafe numbers, non-integers and out-of-range bigints", () => {
    expect(encodeErrorOf(() => encode(int8, 2 ** 53)).message).toContain("safe integer")
    expect(encodeErrorOf(() => encode(int8, 0.5)).message).toContain("not an integer")
    expect(encodeErrorOf(() => encode(int8, 2n ** 63n)).actualType).toBe("bigint")
    expect(encodeErrorOf(() => encode(int8, "1")).actualType).toBe("string")
  })
  it("text", () => {
    expect(int8.decodeText("-9223372036854775808")).toBe(-(2n ** 63n))
  })
})

describe("float4 / float8", () => {
  it("float8 round trips bit-exact, NaN, -0 and infinities", () => {
    for (const n of [0, 1.5, -1e308, 5e-324, Number.MAX_VALUE, Infinity, -Infinity, 0.1]) {
      expect(roundTrip(float8, n)).toBe(n)
    }
    expect(Number.isNaN(roundTrip(float8, NaN))).toBe(true)
    expect(Object.is(roundTrip(float8, -0), -0)).toBe(true)
    expect(hex(encode(float8, 1))).toBe("3ff0000000000000")
  })
  it("float4 round trips values exactly representable in single precision", () => {
    for (const n of [0, 1.5, -2.25, Infinity, -Infinity, 3.4028234663852886e38]) expect(roundTrip(float4, n)).toBe(n)
    expect(Number.isNaN(roundTrip(float4, NaN))).toBe(true)
    expect(Object.is(roundTrip(float4, -0), -0)).toBe(true)
    expect(roundTrip(float4, 0.1)).toBe(Math.fround(0.1))
    expect(hex(encode(float4, 1))).toBe("3f800000")
  })
  it("text forms", () => {
    expect(float8.encodeText(-0)).toBe("-0")
    expect(float8.encodeText(NaN)).toBe("NaN")
    expect(float8.encodeText(-Infinity)).toBe("-Infinity")
    expect(float8.decodeText("Infinity")).toBe(Infinity)
    expect(float8.decodeText("-Infinity")).toBe(-Infinity)
    expect(Number.isNaN(float8.decodeText("NaN"))).toBe(true)
    expect(Object.is(float8.decodeText("-0"), -0)).toBe(true)
    expect(float8.decodeText("1e+100")).toBe(1e100)
  })
  it("rejects wrong types and float4 overflow", () => {
    expect(encodeErrorOf(() => encode(float8, 1n))).toMatchObject({ typeName: "float8", actualType: "bigint" })
    expect(encodeErrorOf(() => encode(float4, 1e39)).message).toContain("out of range")
  })
})
