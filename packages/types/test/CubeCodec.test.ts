import { describe, expect, it } from "@effect/vitest"
import { cubeCodec } from "@pgfx/types/CubeCodec"
import { decode, encode, fromHex } from "./util.ts"

const cube = cubeCodec(50000)

describe("cube", () => {
  it("decodes points and boxes as cube_out prints them, with exact coordinates", () => {
    // point (0.1 + 0.2, 1)
    expect(decode(cube, fromHex("80000002 3fd3333333333334 3ff0000000000000"))).toBe("(0.30000000000000004, 1)")
    // box (1, 2),(3, -0)
    const box = fromHex("00000002 3ff0000000000000 4000000000000000 4008000000000000 8000000000000000")
    expect(decode(cube, box)).toBe("(1, 2),(3, -0)")
    // a box whose corners are equal prints as a point; NaN corners never are equal
    expect(decode(cube, fromHex("00000001 3ff0000000000000 3ff0000000000000"))).toBe("(1)")
    expect(decode(cube, fromHex("00000001 7ff8000000000000 7ff8000000000000"))).toBe("(NaN),(NaN)")
    expect(decode(cube, fromHex("80000001 7ff0000000000000"))).toBe("(Infinity)")
    expect(decode(cube, fromHex("80000000"))).toBe("()")
    expect(() => decode(cube, fromHex("80000002 3ff0000000000000"))).toThrow(/12 bytes for 2 dimensions/)
    expect(() => decode(cube, fromHex("0000"))).toThrow(/truncated/)
  })

  it("encodes every input form of cube_in to the same binary value", () => {
    const point = fromHex("80000002 3ff0000000000000 4000000000000000")
    for (const text of ["1, 2", "(1,2)", " ( 1 , 2 ) ", "(1, 2),(1, 2)", "[(1, 2),(1, 2)]", "(1e0, 20e-1)"]) {
      expect(encode(cube, text), text).toEqual(point)
    }
    expect(encode(cube, "(1, 2),(3, 4)")).toEqual(
      fromHex("00000002 3ff0000000000000 4000000000000000 4008000000000000 4010000000000000"),
    )
    expect(encode(cube, "(-Infinity),(nan)")).toEqual(fromHex("00000001 fff0000000000000 7ff8000000000000"))
    expect(encode(cube, "()")).toEqual(fromHex("80000000"))
    // one corner is a point even with NaN; two NaN corners are a box
    expect(encode(cube, "(NaN)")).toEqual(fromHex("80000001 7ff8000000000000"))
    expect(encode(cube, "(NaN),(NaN)")).toEqual(fromHex("00000001 7ff8000000000000 7ff8000000000000"))
    for (const [text, reason] of [
      ["(1, 2),(3)", /different numbers of dimensions/],
      ["(1, 2", /malformed/],
      ["[(1, 2)]", /malformed/],
      ["(1),(2),(3)", /malformed/],
      ["(0x10)", /malformed/],
      ["(1e400)", /out of range/],
      ["(1e-400)", /out of range/],
      [`(${Array.from({ length: 101 }, () => "1").join(",")})`, /more than 100 dimensions/],
    ] as const) {
      expect(() => encode(cube, text), text).toThrow(reason)
    }
    expect(() => encode(cube, 1)).toThrow(/expected a string/)
  })
})
