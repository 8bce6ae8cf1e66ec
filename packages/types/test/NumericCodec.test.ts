import { describe, expect, it } from "@effect/vitest"
import { numeric } from "@pgfx/types/NumericCodec"
import { decode, encode, encodeErrorOf, fromHex, hex, roundTrip } from "./util.ts"

describe("numeric", () => {
  it("hand-computed bytes", () => {
    // ndigits 2, weight 0, sign +, dscale 4, digits 1234 5678
    expect(hex(encode(numeric, "1234.5678"))).toBe("0002" + "0000" + "0000" + "0004" + "04d2" + "162e")
    // 1e-7 = 10 × 10000^-2: ndigits 1, weight -2, dscale 7
    expect(hex(encode(numeric, "0.0000001"))).toBe("0001" + "fffe" + "0000" + "0007" + "000a")
    // 10000 = 1 × 10000^1: trailing zero groups stripped
    expect(hex(encode(numeric, "10000"))).toBe("0001" + "0001" + "0000" + "0000" + "0001")
    expect(hex(encode(numeric, "-1.50"))).toBe("0002" + "0000" + "4000" + "0002" + "0001" + "1388")
    expect(hex(encode(numeric, "0"))).toBe("0000" + "0000" + "0000" + "0000")
    expect(hex(encode(numeric, "NaN"))).toBe("0000" + "0000" + "c000" + "0000")
    expect(hex(encode(numeric, "Infinity"))).toBe("0000" + "0000" + "d000" + "0000")
    expect(hex(encode(numeric, "-Infinity"))).toBe("0000" + "0000" + "f000" + "0000")
    expect(decode(numeric, fromHex("0002 0000 0000 0004 04d2 162e"))).toBe("1234.5678")
  })

  it("round trips decimal strings to PostgreSQL's text form", () => {
    const same = [
      "0",
      "1",
      "-1",
      "0.0000001",
      "-0.0000001",
      "1.500",
      "1.5000",
      "123.4500",
      "9999.9999",
      "10000",
      "0.0001",
      "0.00010",
      "100000000",
      "12345678901234567890123456789012345678901234567890.12345678901234567890123456789012345678901",
      "-98765432109876543210.000000000000000000001",
      "0.000",
      "NaN",
      "Infinity",
      "-Infinity",
    ]
    for (const s of same) expect(roundTrip(numeric, s)).toBe(s)
  })

  it("normalizes other spellings like numeric_in", () => {
    const cases: Array<[string, string]> = [
      ["1.5e3", "1500"],
      ["1.5E+3", "1500"],
      ["15e-1", "1.5"],
      ["1.23e-50", `0.${"0".repeat(49)}123`],
      ["1e100", `1${"0".repeat(100)}`],
      ["-0.000", "0.000"],
      ["+5", "5"],
      ["00012.3400", "12.3400"],
      [".5", "0.5"],
      ["5.", "5"],
      ["  7  ", "7"],
      ["inf", "Infinity"],
      ["-inf", "-Infinity"],
      ["nan", "NaN"],
    ]
    for (const [input, out] of cases) expect(roundTrip(numeric, input)).toBe(out)
  })

  it("accepts numbers and bigints", () => {
    expect(roundTrip(numeric, 0.1)).toBe("0.1")
    expect(roundTrip(numeric, -0)).toBe("0")
    expect(roundTrip(numeric, 1e21)).toBe("1000000000000000000000")
    expect(roundTrip(numeric, 1e-7)).toBe("0.0000001")
    expect(roundTrip(numeric, 5e-324)).toBe(`0.${"0".repeat(323)}5`)
    expect(roundTrip(numeric, NaN)).toBe("NaN")
    expect(roundTrip(numeric, -Infinity)).toBe("-Infinity")
    expect(roundTrip(numeric, 2n ** 100n)).toBe(String(2n ** 100n))
    expect(roundTrip(numeric, -(2n ** 64n))).toBe(String(-(2n ** 64n)))
  })

  it("encodeText gives the canonical text", () => {
    expect(numeric.encodeText("1.5e3")).toBe("1500")
    expect(numeric.encodeText(0.25)).toBe("0.25")
    expect(numeric.encodeText(12n)).toBe("12")
    expect(numeric.encodeText("NaN")).toBe("NaN")
  })

  it("decodes PostgreSQL's normalized and odd inputs", () => {
    // digits beyond dscale are truncated, as numeric_recv does
    expect(decode(numeric, fromHex("0002 0000 0000 0002 0001 162e"))).toBe("1.56")
    // missing integer groups are zeros
    expect(decode(numeric, fromHex("0001 0002 0000 0001 0007"))).toBe("700000000.0")
    expect(decode(numeric, fromHex("0000 0000 4000 0002"))).toBe("0.00")
    expect(() => decode(numeric, fromHex("0002 0000 0000 0000 0001"))).toThrow(/numeric/)
    expect(() => decode(numeric, fromHex("0000 0000 1234 0000"))).toThrow(/sign/)
  })

  it("rejects malformed and unrepresentable values", () => {
    for (const bad of ["", "abc", "1e", "1.2.3", "--1", "-NaN", "1 2", "0x10", "e5", "."]) {
      const e = encodeErrorOf(() => encode(numeric, bad))
      expect(e.typeName).toBe("numeric")
      expect(e.actualType).toBe("string")
    }
    expect(encodeErrorOf(() => encode(numeric, "1e200000")).message).toContain("overflows")
    expect(encodeErrorOf(() => encode(numeric, "1e-20000")).message).toContain("decimal point")
    expect(encodeErrorOf(() => encode(numeric, "1e9999999999")).message).toContain("exponent")
    expect(encodeErrorOf(() => encode(numeric, true))).toMatchObject({ typeName: "numeric", actualType: "boolean" })
    expect(encodeErrorOf(() => encode(numeric, {}))).toMatchObject({ actualType: "Object" })
  })

  it("reads digit-group counts and display scales as unsigned, like numeric_recv", () => {
    // 32,768 groups of 9999: ndigits 0x8000 would be negative as an int16
    const big = "9".repeat(131072)
    const bytes = encode(numeric, big)
    expect(hex(bytes.subarray(0, 8))).toBe("8000" + "7fff" + "0000" + "0000")
    expect(decode(numeric, bytes)).toBe(big)
    // the largest display scale the format allows (0x3FFF), and one past it
    const small = `0.${"0".repeat(16382)}1`
    expect(roundTrip(numeric, small)).toBe(small)
    expect(() => decode(numeric, fromHex("0000 0000 0000 4000"))).toThrow("dscale")
    expect(() => decode(numeric, fromHex("0001 0000 0000 0000"))).toThrow("bytes for 1 digits")
  })

  it("never puts the string value in the message", () => {
    const e = encodeErrorOf(() => encode(numeric, "hunter2-password"))
    expect(e.message).not.toContain("hunter2")
  })
})

describe("numeric (generated)", () => {
  // xorshift32, fixed seed: reproducible
  let seed = 0x9e3779b9
  const rand = (n: number): number => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) % n
  }
  const digits = (n: number): string => Array.from({ length: n }, () => String(rand(10))).join("")
  /** PostgreSQL's text for a plain decimal: no leading zeros, fraction kept as written. */
  const canonical = (neg: boolean, int: string, frac: string): string => {
    const i = int.replace(/^0+/, "") || "0"
    const body = frac.length > 0 ? `${i}.${frac}` : i
    return neg && /[1-9]/.test(int + frac) ? `-${body}` : body
  }

  it("round trips 2000 random decimals", () => {
    for (let k = 0; k < 2000; k++) {
      const neg = rand(2) === 1
      const int = digits(rand(30))
      const frac = digits(rand(30))
      if (int.length === 0 && frac.length === 0) continue
      const input = `${neg ? "-" : ""}${int}${frac.length > 0 ? `.${frac}` : ""}`
      expect(roundTrip(numeric, input)).toBe(canonical(neg, int, frac))
    }
  })
})
