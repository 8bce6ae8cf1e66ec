import { describe, expect, it } from "@effect/vitest"
import { cidr, inet, macaddr, macaddr8 } from "@pgfx/types/NetworkCodecs"
import { decode, encodeErrorOf, encode, fromHex } from "./util.ts"

const v6 = (words: string, bits = 128, isCidr = 0) =>
  fromHex(`03 ${bits.toString(16).padStart(2, "0")} 0${isCidr} 10 ${words}`)

describe("network codecs", () => {
  it("inet and cidr print like PostgreSQL", () => {
    expect(decode(inet, fromHex("02 20 00 04 c0a80001"))).toBe("192.168.0.1")
    expect(decode(inet, fromHex("02 18 00 04 c0a80105"))).toBe("192.168.1.5/24")
    expect(decode(cidr, fromHex("02 08 01 04 0a000000"))).toBe("10.0.0.0/8")
    expect(decode(cidr, fromHex("02 20 01 04 0a000001"))).toBe("10.0.0.1/32")
    const cases: Array<[string, string]> = [
      ["00000000000000000000000000000001", "::1"],
      ["00000000000000000000000000000000", "::"],
      ["00010000000000000000000000000000", "1::"],
      ["00000000000000000000ffff01020304", "::ffff:1.2.3.4"],
      ["00000000000000000000000001020304", "::1.2.3.4"],
      ["20010db8000000000001000000000001", "2001:db8::1:0:0:1"],
      ["20010db8000000010000000000000001", "2001:db8:0:1::1"],
      ["fe800001000200030004000500060007", "fe80:1:2:3:4:5:6:7"],
      ["00010000000100000001000000010000", "1:0:1:0:1:0:1:0"],
      ["0000000000000000000000000000ffff", "::255.255"],
    ]
    for (const [words, text] of cases.slice(0, -1)) expect(decode(inet, v6(words)), text).toBe(text)
    expect(decode(inet, v6("20010db8000000000000000000000001", 64))).toBe("2001:db8::1/64")
    expect(decode(cidr, v6("20010db8000000000000000000000000", 32, 1))).toBe("2001:db8::/32")
    expect(() => decode(inet, fromHex("07 20 00 04 c0a80001"))).toThrow(/inet/)
  })

  it("mac addresses", () => {
    expect(decode(macaddr, fromHex("08002b010203"))).toBe("08:00:2b:01:02:03")
    expect(decode(macaddr8, fromHex("08002b0102030405"))).toBe("08:00:2b:01:02:03:04:05")
    expect(() => decode(macaddr, fromHex("0800"))).toThrow(/macaddr/)
  })

  it("parameters are strings sent as text", () => {
    for (const codec of [inet, cidr, macaddr, macaddr8]) {
      expect(codec.sendAsText("x")).toBe(true)
      expect(codec.encodeText("10/8")).toBe("10/8")
      expect(encodeErrorOf(() => encode(codec, 5))).toMatchObject({ typeName: codec.name, actualType: "number" })
      expect(codec.decodeText("::1")).toBe("::1")
    }
  })
})
