import { describe, expect, it } from "@effect/vitest"
import type { Codec } from "@pgfx/types/Codec"
import { Box, Circle, Line, LineSegment, Path, Point, Polygon, parseNumbers } from "@pgfx/types/Geometry"
import { box, circle, line, lseg, path, point, polygon } from "@pgfx/types/GeometryCodecs"
import { decode, encode, encodeErrorOf, fromHex, hex, roundTrip } from "./util.ts"

describe("Geometry value classes", () => {
  it("print floats exactly like PostgreSQL's float8out", () => {
    // thresholds: fixed notation for decimal exponents in [-4, 15), else d.ddde±XX
    const cases: Array<[number, string]> = [
      [1.5, "1.5"],
      [-2, "-2"],
      [0.1, "0.1"],
      [0.0001, "0.0001"],
      [0.00001, "1e-05"],
      [1.5e-5, "1.5e-05"],
      [123456789012345, "123456789012345"],
      [1e15, "1e+15"],
      [1e16, "1e+16"],
      [1e100, "1e+100"],
      [5e-324, "5e-324"],
      [1.7976931348623157e308, "1.7976931348623157e+308"],
      [-0, "-0"],
      [0, "0"],
      [NaN, "NaN"],
      [Infinity, "Infinity"],
      [-Infinity, "-Infinity"],
    ]
    for (const [n, s] of cases) expect(String(new Point(n, 0)), String(n)).toBe(`(${s},0)`)
  })

  it("print every type like the server", () => {
    expect(String(new Line(1, -1, 0))).toBe("{1,-1,0}")
    expect(String(new LineSegment([1, 2], { x: 3, y: 4 }))).toBe("[(1,2),(3,4)]")
    expect(String(new Box([1, 2], [3, 4]))).toBe("(3,4),(1,2)")
    expect(String(new Box([1, 4], [3, 2]))).toBe("(3,4),(1,2)")
    expect(String(new Path([[1, 2], new Point(3, 4)]))).toBe("[(1,2),(3,4)]")
    expect(String(new Path([[1, 2]], true))).toBe("((1,2))")
    expect(
      String(
        new Polygon([
          [0, 0],
          [1, 1],
          [1, 0],
        ]),
      ),
    ).toBe("((0,0),(1,1),(1,0))")
    expect(String(new Circle([1, 2], 3))).toBe("<(1,2),3>")
  })

  it("equals compares values, NaN included", () => {
    expect(new Point(NaN, 1).equals(new Point(NaN, 1))).toBe(true)
    expect(new Point(1, 2).equals(new Point(1, 3))).toBe(false)
    expect(new Path([[1, 2]], true).equals(new Path([[1, 2]], false))).toBe(false)
    expect(new Circle([0, 0], 1).equals(new Circle([0, 0], 1))).toBe(true)
    expect(() => new Point("1" as unknown as number, 2)).toThrow(TypeError)
  })

  it("parseNumbers reads every coordinate", () => {
    expect(parseNumbers("((1,2),(3.5,-4e-05))")).toEqual([1, 2, 3.5, -4e-5])
    expect(parseNumbers("<(NaN,Infinity),-Infinity>")).toEqual([NaN, Infinity, -Infinity])
    expect(parseNumbers("(1,x)")).toBeUndefined()
  })
})

describe("geometric codecs", () => {
  it("point: hand-computed bytes both ways", () => {
    const bytes = "3ff8000000000000 c000000000000000"
    expect(hex(encode(point, new Point(1.5, -2)))).toBe(bytes.replace(" ", ""))
    expect(decode(point, fromHex(bytes))).toEqual(new Point(1.5, -2))
    expect(roundTrip(point, { x: 1, y: 2 })).toEqual(new Point(1, 2))
    expect(roundTrip(point, [3, 4])).toEqual(new Point(3, 4))
  })

  it("path: closed flag byte and count", () => {
    const p = new Path(
      [
        [1, 2],
        [3, 4],
      ],
      true,
    )
    const bytes = encode(path, p)
    expect(hex(bytes.subarray(0, 5))).toBe("0100000002")
    expect(bytes.length).toBe(5 + 32)
    expect(decode(path, bytes)).toEqual(p)
    expect(() => decode(path, bytes.subarray(0, 20))).toThrow(/path/)
  })

  it("every type round trips in binary and text", () => {
    const values: Array<[Codec, unknown]> = [
      [point, new Point(-0.5, 1e300)],
      [line, new Line(1, 2, 3)],
      [lseg, new LineSegment([0, 0], [1, 1])],
      [box, new Box([5, 6], [1, 2])],
      [
        path,
        new Path([
          [1, 1],
          [2, 2],
          [3, 3],
        ]),
      ],
      [
        polygon,
        new Polygon([
          [0, 0],
          [0, 1],
          [1, 0],
        ]),
      ],
      [circle, new Circle([1, 1], 0.5)],
    ]
    for (const [codec, value] of values) {
      expect(roundTrip(codec, value), codec.name).toEqual(value)
      expect(codec.decodeText(codec.encodeText(value)), codec.name).toEqual(value)
      expect(codec.encodeText(value)).toBe(String(value))
    }
    expect(path.decodeText("[(1,2),(3,4)]").isClosed).toBe(false)
    expect(path.decodeText("((1,2),(3,4))").isClosed).toBe(true)
  })

  it("rejects wrong inputs with typed errors; strings go as text", () => {
    expect(encodeErrorOf(() => encode(point, 5))).toMatchObject({ typeName: "point", actualType: "number" })
    expect(encodeErrorOf(() => encode(circle, { center: [0, 0] }))).toMatchObject({ typeName: "circle" })
    expect(encodeErrorOf(() => encode(box, new Point(1, 1)))).toMatchObject({ typeName: "box", actualType: "Point" })
    expect(point.sendAsText("(1,2)")).toBe(true)
    expect(point.sendAsText(new Point(1, 2))).toBe(false)
    expect(() => point.decodeText("(1)")).toThrow(/point/)
    expect(() => decode(point, fromHex("00"))).toThrow(/point/)
  })
})
