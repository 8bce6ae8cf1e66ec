import { describe, expect, it } from "@effect/vitest"
import { bit, varbit } from "@pgfx/types/BitCodecs"
import { BitString } from "@pgfx/types/BitString"
import { decode, encode, encodeErrorOf, fromHex, hex, roundTrip } from "./util.ts"

describe("BitString", () => {
  it("holds bits from text, bytes and integers", () => {
    const b = new BitString("10100")
    expect(b.length).toBe(5)
    expect(String(b)).toBe("10100")
    expect(hex(b.bytes)).toBe("a0")
    expect([...b]).toEqual([1, 0, 1, 0, 0])
    expect(b.get(0)).toBe(1)
    expect(b.get(5)).toBeUndefined()
    expect(String(BitString.fromBytes(new Uint8Array([0xff]), 3))).toBe("111")
    expect(BitString.fromBytes(new Uint8Array([0xff]), 3).bytes).toEqual(new Uint8Array([0xe0]))
    expect(() => new BitString("012")).toThrow(RangeError)
    expect(() => BitString.fromBytes(new Uint8Array(1), 9)).toThrow(RangeError)
    expect(new BitString("").length).toBe(0)
    expect(new BitString("101").equals(new BitString("101"))).toBe(true)
    expect(new BitString("101").equals(new BitString("100"))).toBe(false)
    expect(JSON.stringify({ b: new BitString("01") })).toBe('{"b":"01"}')
  })

  it("fromInt / toInt follow asyncpg's from_int / to_int", () => {
    expect(String(BitString.fromInt(5, 4))).toBe("0101")
    expect(String(BitString.fromInt(5, 4, "little"))).toBe("1010")
    expect(String(BitString.fromInt(-1, 4, "big", { signed: true }))).toBe("1111")
    expect(String(BitString.fromInt(-8, 4, "big", { signed: true }))).toBe("1000")
    expect(String(BitString.fromInt(0, 0))).toBe("")
    expect(() => BitString.fromInt(16, 4)).toThrow(RangeError)
    expect(() => BitString.fromInt(-1, 4)).toThrow(RangeError)
    expect(() => BitString.fromInt(8, 4, "big", { signed: true })).toThrow(RangeError)
    expect(() => BitString.fromInt(1, 0)).toThrow(RangeError)
    expect(new BitString("0101").toInt()).toBe(5n)
    expect(new BitString("0101").toInt("little")).toBe(10n)
    expect(new BitString("1111").toInt("big", { signed: true })).toBe(-1n)
    expect(new BitString("1111").toInt()).toBe(15n)
    expect(new BitString("").toInt()).toBe(0n)
    const wide = 2n ** 100n + 3n
    expect(BitString.fromInt(wide, 101).toInt()).toBe(wide)
  })
})

describe("bit / varbit codecs", () => {
  it("wire format: bit count then zero-padded bytes", () => {
    expect(hex(encode(varbit, new BitString("10100")))).toBe("00000005a0")
    expect(String(decode(bit, fromHex("0000000c ffff")))).toBe("111111111111")
    expect(String(decode(varbit, fromHex("00000000")))).toBe("")
    expect(() => decode(varbit, fromHex("00000009 ff"))).toThrow(/varbit/)
    expect(String(roundTrip(bit, new BitString("1".repeat(1000))))).toBe("1".repeat(1000))
    expect(String(varbit.decodeText("0011"))).toBe("0011")
    expect(varbit.encodeText(new BitString("0011"))).toBe("0011")
    expect(encodeErrorOf(() => encode(bit, 5))).toMatchObject({ typeName: "bit", actualType: "number" })
    expect(bit.sendAsText("0101")).toBe(true)
  })
})
