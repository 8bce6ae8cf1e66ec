import { describe, expect, it } from "@effect/vitest"
import { bytea, parseByteaText } from "@pgfx/types/ByteaCodec"
import { bpchar, char, name, text, textCodec, unknown, varchar, xml } from "@pgfx/types/TextCodecs"
import { uuid } from "@pgfx/types/UuidCodec"
import { Interval } from "@pgfx/types/Interval"
import { PgDate } from "@pgfx/types/PgDate"
import { PgJson } from "@pgfx/types/PgJson"
import { PgTimestamp } from "@pgfx/types/PgTimestamp"
import { decode, encode, encodeErrorOf, fromHex, hex, roundTrip } from "./util.ts"

describe("text-like codecs", () => {
  const samples = ["", "a", "hello world", "ünïcödé ✓", "😀 emoji", "x".repeat(1000), "line\nbreak\u0001"]
  it("round trip UTF-8", () => {
    for (const codec of [text, varchar, bpchar, name, xml, unknown]) {
      for (const s of samples) expect(roundTrip(codec, s)).toBe(s)
      expect(codec.stringsAsText).toBe(false)
      expect(codec.sendAsText("x")).toBe(false)
    }
    expect(hex(encode(text, "é"))).toBe("c3a9")
  })
  it("text form is the string itself", () => {
    expect(text.decodeText("abc")).toBe("abc")
    expect(varchar.encodeText("abc")).toBe("abc")
  })
  it("reject non-strings (text and unknown: values with a canonical text are taken)", () => {
    expect(encodeErrorOf(() => encode(varchar, 1))).toMatchObject({
      typeName: "varchar",
      expected: "a string",
      actualType: "number",
    })
    expect(encodeErrorOf(() => encode(varchar, new Date(0)))).toMatchObject({ typeName: "varchar", actualType: "Date" })
    expect(encodeErrorOf(() => encode(text, [1]))).toMatchObject({ actualType: "Array" })
    expect(encodeErrorOf(() => encode(unknown, { a: 1 }))).toMatchObject({ typeName: "unknown", actualType: "Object" })
    expect(encodeErrorOf(() => encode(text, new Date(Number.NaN)))).toMatchObject({ actualType: "Date" })
    const canonical: Array<[unknown, string]> = [
      [1, "1"],
      [-1.5, "-1.5"],
      [12345678901234567890n, "12345678901234567890"],
      [true, "true"],
      [new Date("2024-01-02T03:04:05.678Z"), "2024-01-02T03:04:05.678Z"],
      [PgTimestamp.make(2024, 1, 2, 3, 4, 5, 6), "2024-01-02 03:04:05.000006+00"],
      [PgDate.make(2024, 2, 29), "2024-02-29"],
      [Interval.make({ days: 1, hours: 2 }), "1 day 02:00:00"],
      [PgJson.raw('{"a": 1}'), '{"a": 1}'],
    ]
    for (const [value, want] of canonical) {
      expect(text.encodeText(value)).toBe(want)
      expect(new TextDecoder().decode(encode(unknown, value))).toBe(want)
    }
  })
})

describe('"char"', () => {
  it("one byte each way", () => {
    expect(hex(encode(char, "a"))).toBe("61")
    expect(hex(encode(char, ""))).toBe("00")
    expect(hex(encode(char, "\\377"))).toBe("ff")
    expect(decode(char, fromHex("61"))).toBe("a")
    expect(decode(char, fromHex("00"))).toBe("")
    expect(decode(char, fromHex("e9"))).toBe("\\351")
    expect(roundTrip(char, "\\200")).toBe("\\200")
    expect(char.encodeText("\\351")).toBe("\\351")
  })
  it("rejects more than one byte", () => {
    expect(encodeErrorOf(() => encode(char, "ab")).typeName).toBe("char")
    expect(encodeErrorOf(() => encode(char, "é")).typeName).toBe("char")
  })
})

describe("bytea", () => {
  it("round trips bytes and copies out of the read buffer", () => {
    const bytes = new Uint8Array([0, 1, 2, 255, 92, 39])
    const out = roundTrip(bytea, bytes)
    expect(out).toEqual(bytes)
    expect(roundTrip(bytea, new Uint8Array(0))).toEqual(new Uint8Array(0))
    expect(roundTrip(bytea, Buffer.from("abc"))).toEqual(new Uint8Array([97, 98, 99]))
    const buf = fromHex("0102")
    const decoded = bytea.decodeBinary(buf, new DataView(buf.buffer), 0, 2)
    buf[0] = 9
    expect(decoded[0]).toBe(1)
  })
  it("text forms", () => {
    expect(bytea.encodeText(new Uint8Array([0xde, 0xad, 0x00]))).toBe("\\xdead00")
    expect(bytea.decodeText("\\xDEAD00")).toEqual(new Uint8Array([0xde, 0xad, 0]))
    expect(parseByteaText("a\\\\b\\000\\377")).toEqual(new Uint8Array([97, 92, 98, 0, 255]))
    expect(bytea.stringsAsText).toBe(true)
    expect(bytea.sendAsText("\\x00")).toBe(true)
  })
  it("rejects non-Uint8Array", () => {
    expect(encodeErrorOf(() => encode(bytea, [1, 2]))).toMatchObject({ typeName: "bytea", actualType: "Array" })
    expect(encodeErrorOf(() => encode(bytea, new ArrayBuffer(2)))).toMatchObject({ actualType: "ArrayBuffer" })
  })
})

describe("uuid", () => {
  const u = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
  it("hand-computed bytes", () => {
    expect(hex(encode(uuid, u))).toBe("a0eebc999c0b4ef8bb6d6bb9bd380a11")
    expect(decode(uuid, fromHex("a0eebc999c0b4ef8bb6d6bb9bd380a11"))).toBe(u)
  })
  it("accepts 36-char and 32-hex forms in any case, decodes lowercase", () => {
    expect(roundTrip(uuid, u.toUpperCase())).toBe(u)
    expect(roundTrip(uuid, u.replace(/-/g, ""))).toBe(u)
    expect(uuid.encodeText("A0EEBC999C0B4EF8BB6D6BB9BD380A11")).toBe(u)
    expect(roundTrip(uuid, "00000000-0000-0000-0000-000000000000")).toBe("00000000-0000-0000-0000-000000000000")
  })
  it("rejects other forms without echoing the string", () => {
    for (const bad of [
      "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g",
      "xyz",
      "a0eebc999-c0b-4ef8-bb6d-6bb9bd380a11",
    ]) {
      const e = encodeErrorOf(() => encode(uuid, bad))
      expect(e).toMatchObject({ typeName: "uuid", actualType: "string" })
      expect(e.message).not.toContain(bad)
    }
    expect(encodeErrorOf(() => encode(uuid, 5)).actualType).toBe("number")
    expect(uuid.sendAsText(u)).toBe(true)
  })
})

describe("textCodec fallback", () => {
  const mood = textCodec(16385, "mood")
  it("is text-only and passes strings through", () => {
    expect(mood.binary).toBe(false)
    expect(mood.decodeText("happy")).toBe("happy")
    expect(mood.encodeText("sad")).toBe("sad")
    expect(mood.encodeText(12)).toBe("12")
    expect(mood.sendAsText("sad")).toBe(true)
    expect(mood.sendAsText(1)).toBe(true)
    expect(encodeErrorOf(() => mood.encodeText({}))).toMatchObject({ typeName: "mood", actualType: "Object" })
  })
})
