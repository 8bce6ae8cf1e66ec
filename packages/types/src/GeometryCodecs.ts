/**
 * Codecs for the geometric types: `point`, `line`, `lseg`, `box`, `path`, `polygon`, `circle` ↔
 * the value classes of {@link ./Geometry.ts}.
 *
 * Wire formats: float8 coordinates, big-endian. `point` x, y; `line` A, B, C; `lseg` and `box`
 * two points (`box` upper-right first); `path` a closed flag byte, an int32 count and the
 * points; `polygon` an int32 count and the points; `circle` x, y, radius.
 *
 * Encode accepts the value class or a plain object of the same shape (`{ x, y }`,
 * `{ center, radius }`, `{ points, isClosed }`, ...); a JS string is sent as text for the server
 * to parse.
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { checkLength, type Codec, decodeError, invalidType, make } from "./Codec.ts"
import { Box, Circle, Line, LineSegment, Path, Point, Polygon, parseNumbers } from "./Geometry.ts"
import { Oids } from "./Oids.ts"

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null

const toPoint = (typeName: string, v: unknown): Point => {
  if (v instanceof Point) return v
  if (isObject(v) && typeof v.x === "number" && typeof v.y === "number") return new Point(v.x, v.y)
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === "number" && typeof v[1] === "number") {
    return new Point(v[0], v[1])
  }
  throw invalidType(typeName, "a Point, { x, y } or [x, y]", v)
}

const writePoint = (w: Writer, p: Point): void => {
  w.float64(p.x).float64(p.y)
}

const readPoint = (view: DataView, at: number): Point => new Point(view.getFloat64(at), view.getFloat64(at + 8))

const numbersOf = (typeName: string, text: string, count: number | "even"): Array<number> => {
  const ns = parseNumbers(text)
  if (ns === undefined || (count === "even" ? ns.length % 2 !== 0 : ns.length !== count)) {
    throw decodeError(typeName, "malformed text value")
  }
  return ns
}

const pointsOf = (ns: ReadonlyArray<number>): Array<Point> => {
  const out: Array<Point> = []
  for (let i = 0; i < ns.length; i += 2) out.push(new Point(ns[i]!, ns[i + 1]!))
  return out
}

interface Spec<A> {
  readonly name: string
  readonly oid: number
  readonly arrayOid: number
  readonly decodeBinary: (view: DataView, offset: number, length: number) => A
  readonly decodeText: (text: string) => A
  readonly coerce: (value: unknown) => A
  readonly write: (w: Writer, value: A) => void
}

const geometric = <A extends { toString(): string }>(spec: Spec<A>): Codec<A> =>
  make({
    name: spec.name,
    oid: spec.oid,
    arrayOid: spec.arrayOid,
    binary: true,
    decodeBinary: (_buf, view, offset, length) => spec.decodeBinary(view, offset, length),
    decodeText: spec.decodeText,
    encodeBinary: (value, w) => spec.write(w, spec.coerce(value)),
    encodeText: (value) => spec.coerce(value).toString(),
    stringsAsText: true,
    textMayRound: true,
  })

/**
 * `point` (OID 600) ↔ {@link Point}.
 *
 * @since 0.1.0
 * @category codecs
 */
export const point: Codec<Point> = geometric({
  name: "point",
  oid: Oids.point,
  arrayOid: Oids._point,
  decodeBinary: (view, offset, length) => {
    checkLength("point", length, 16)
    return readPoint(view, offset)
  },
  decodeText: (text) => {
    const [x, y] = numbersOf("point", text, 2)
    return new Point(x!, y!)
  },
  coerce: (v) => toPoint("point", v),
  write: writePoint,
})

/**
 * `line` (OID 628) ↔ {@link Line}.
 *
 * @since 0.1.0
 * @category codecs
 */
export const line: Codec<Line> = geometric({
  name: "line",
  oid: Oids.line,
  arrayOid: Oids._line,
  decodeBinary: (view, offset, length) => {
    checkLength("line", length, 24)
    return new Line(view.getFloat64(offset), view.getFloat64(offset + 8), view.getFloat64(offset + 16))
  },
  decodeText: (text) => {
    const [a, b, c] = numbersOf("line", text, 3)
    return new Line(a!, b!, c!)
  },
  coerce: (v) => {
    if (v instanceof Line) return v
    if (isObject(v) && typeof v.a === "number" && typeof v.b === "number" && typeof v.c === "number") {
      return new Line(v.a, v.b, v.c)
    }
    throw invalidType("line", "a Line or { a, b, c }", v)
  },
  write: (w, l) => {
    w.float64(l.a).float64(l.b).float64(l.c)
  },
})

/**
 * `lseg` (OID 601) ↔ {@link LineSegment}.
 *
 * @since 0.1.0
 * @category codecs
 */
export const lseg: Codec<LineSegment> = geometric({
  name: "lseg",
  oid: Oids.lseg,
  arrayOid: Oids._lseg,
  decodeBinary: (view, offset, length) => {
    checkLength("lseg", length, 32)
    return new LineSegment(readPoint(view, offset), readPoint(view, offset + 16))
  },
  decodeText: (text) => {
    const [a, b] = pointsOf(numbersOf("lseg", text, 4))
    return new LineSegment(a!, b!)
  },
  coerce: (v) => {
    if (v instanceof LineSegment) return v
    if (isObject(v) && "p1" in v && "p2" in v) return new LineSegment(toPoint("lseg", v.p1), toPoint("lseg", v.p2))
    throw invalidType("lseg", "a LineSegment or { p1, p2 }", v)
  },
  write: (w, s) => {
    writePoint(w, s.p1)
    writePoint(w, s.p2)
  },
})

/**
 * `box` (OID 603) ↔ {@link Box}. Note that `box[]` uses `;` between elements in text form.
 *
 * @since 0.1.0
 * @category codecs
 */
export const box: Codec<Box> = geometric({
  name: "box",
  oid: Oids.box,
  arrayOid: Oids._box,
  decodeBinary: (view, offset, length) => {
    checkLength("box", length, 32)
    return new Box(readPoint(view, offset), readPoint(view, offset + 16))
  },
  decodeText: (text) => {
    const [a, b] = pointsOf(numbersOf("box", text, 4))
    return new Box(a!, b!)
  },
  coerce: (v) => {
    if (v instanceof Box) return v
    if (isObject(v) && "high" in v && "low" in v) return new Box(toPoint("box", v.high), toPoint("box", v.low))
    throw invalidType("box", "a Box or { high, low }", v)
  },
  write: (w, b) => {
    writePoint(w, b.high)
    writePoint(w, b.low)
  },
})

const readPoints = (typeName: string, view: DataView, at: number, end: number): Array<Point> => {
  if (at + 4 > end) throw decodeError(typeName, "truncated binary value")
  const n = view.getInt32(at)
  if (n < 0 || at + 4 + 16 * n !== end) throw decodeError(typeName, `binary value does not hold ${n} points`)
  const out = new Array<Point>(n)
  for (let i = 0; i < n; i++) out[i] = readPoint(view, at + 4 + 16 * i)
  return out
}

const toPoints = (typeName: string, v: unknown): Array<Point> => {
  if (!Array.isArray(v) && !(isObject(v) && Symbol.iterator in v)) throw invalidType(typeName, "points", v)
  return Array.from(v as Iterable<unknown>, (p) => toPoint(typeName, p))
}

const writePoints = (w: Writer, points: ReadonlyArray<Point>): void => {
  w.int32(points.length)
  for (const p of points) writePoint(w, p)
}

/**
 * `path` (OID 602) ↔ {@link Path} (open or closed).
 *
 * @since 0.1.0
 * @category codecs
 */
export const path: Codec<Path> = geometric({
  name: "path",
  oid: Oids.path,
  arrayOid: Oids._path,
  decodeBinary: (view, offset, length) => {
    if (length < 5) throw decodeError("path", "truncated binary value")
    return Path.ofPoints(readPoints("path", view, offset + 1, offset + length), view.getUint8(offset) !== 0)
  },
  decodeText: (text) => new Path(pointsOf(numbersOf("path", text, "even")), text.trimStart().startsWith("((")),
  coerce: (v) => {
    if (v instanceof Path) return v
    if (isObject(v) && "points" in v) return new Path(toPoints("path", v.points), v.isClosed === true)
    throw invalidType("path", "a Path or { points, isClosed }", v)
  },
  write: (w, p) => {
    w.byte(p.isClosed ? 1 : 0)
    writePoints(w, p.points)
  },
})

/**
 * `polygon` (OID 604) ↔ {@link Polygon}.
 *
 * @since 0.1.0
 * @category codecs
 */
export const polygon: Codec<Polygon> = geometric({
  name: "polygon",
  oid: Oids.polygon,
  arrayOid: Oids._polygon,
  decodeBinary: (view, offset, length) => Polygon.ofPoints(readPoints("polygon", view, offset, offset + length)),
  decodeText: (text) => new Polygon(pointsOf(numbersOf("polygon", text, "even"))),
  coerce: (v) => {
    if (v instanceof Polygon) return v
    if (isObject(v) && "points" in v) return new Polygon(toPoints("polygon", v.points))
    throw invalidType("polygon", "a Polygon or { points }", v)
  },
  write: (w, p) => writePoints(w, p.points),
})

/**
 * `circle` (OID 718) ↔ {@link Circle}.
 *
 * @since 0.1.0
 * @category codecs
 */
export const circle: Codec<Circle> = geometric({
  name: "circle",
  oid: Oids.circle,
  arrayOid: Oids._circle,
  decodeBinary: (view, offset, length) => {
    checkLength("circle", length, 24)
    return new Circle(readPoint(view, offset), view.getFloat64(offset + 16))
  },
  decodeText: (text) => {
    const [x, y, r] = numbersOf("circle", text, 3)
    return new Circle(new Point(x!, y!), r!)
  },
  coerce: (v) => {
    if (v instanceof Circle) return v
    if (isObject(v) && "center" in v && typeof v.radius === "number") {
      return new Circle(toPoint("circle", v.center), v.radius)
    }
    throw invalidType("circle", "a Circle or { center, radius }", v)
  },
  write: (w, c) => {
    writePoint(w, c.center)
    w.float64(c.radius)
  },
})
