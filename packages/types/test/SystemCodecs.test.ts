import { describe, expect, it } from "@effect/vitest"
import {
  cid,
  formatLsn,
  int2vector,
  jsonpath,
  money,
  oidvector,
  pg_lsn,
  regTypes,
  tid,
  voidCodec,
  xid,
  xid8,
} from "@pgfx/types/SystemCodecs"
import { Tid } from "@pgfx/types/Tid"
import { decode, encode, encodeErrorOf, fromHex, hex, roundTrip } from "./util.ts"

describe("system codecs", () => {
  it("xid, cid are unsigned 32-bit numbers; xid8 an unsigned 64-bit bigint", () => {
    expect(decode(xid, fromHex("ffffffff"))).toBe(4294967295)
    expect(roundTrip(cid, 42)).toBe(42)
    expect(encodeErrorOf(() => encode(xid, -1))).toMatchObject({ typeName: "xid" })
    expect(decode(xid8, fromHex("ffffffffffffffff"))).toBe(18446744073709551615n)
    expect(hex(encode(xid8, 18446744073709551615n))).toBe("ffffffffffffffff")
    expect(roundTrip(xid8, 5)).toBe(5n)
    expect(encodeErrorOf(() => encode(xid8, -1n))).toMatchObject({ typeName: "xid8" })
  })

  it("tid", () => {
    expect(decode(tid, fromHex("00000001 0002"))).toEqual(new Tid(1, 2))
    expect(roundTrip(tid, { block: 4294967295, offset: 65535 })).toEqual(new Tid(4294967295, 65535))
    expect(tid.decodeText("(0,1)")).toEqual(new Tid(0, 1))
    expect(String(new Tid(3, 4))).toBe("(3,4)")
    expect(encodeErrorOf(() => encode(tid, [1, 2]))).toMatchObject({ typeName: "tid", actualType: "Array" })
  })

  it("pg_lsn prints uppercase hex; accepts a bigint", () => {
    expect(decode(pg_lsn, fromHex("00000016 b374d848"))).toBe("16/B374D848")
    expect(decode(pg_lsn, fromHex("00000000 00000000"))).toBe("0/0")
    expect(hex(encode(pg_lsn, 0x16b374d848n))).toBe("00000016b374d848")
    expect(formatLsn(0x16b374d848n)).toBe("16/B374D848")
    expect(pg_lsn.sendAsText("16/B374D848")).toBe(true)
    expect(pg_lsn.sendAsText(1n)).toBe(false)
  })

  it("text-format types: reg*, money, tsvector, tsquery", () => {
    for (const codec of [...regTypes, money]) {
      expect(codec.binary, codec.name).toBe(false)
      expect(codec.encodeText(1259)).toBe("1259")
    }
    expect(regTypes.map((c) => c.name)).toContain("regclass")
  })

  it("jsonpath, vectors, void", () => {
    expect(hex(encode(jsonpath, "$.a"))).toBe("01242e61")
    expect(decode(jsonpath, fromHex("01242e61"))).toBe("$.a")
    const v = encode(int2vector, [1, -2])
    expect(hex(v)).toBe("00000001 00000000 00000015 00000002 00000000 00000002 0001 00000002 fffe".replaceAll(" ", ""))
    expect(decode(int2vector, v)).toEqual([1, -2])
    expect(roundTrip(oidvector, [23, 4294967295])).toEqual([23, 4294967295])
    expect(int2vector.encodeText([1, 2])).toBe("1 2")
    expect(int2vector.decodeText("1 2")).toEqual([1, 2])
    expect(int2vector.sendAsText([])).toBe(true)
    expect(decode(voidCodec, new Uint8Array(0))).toBe(null)
  })
})
