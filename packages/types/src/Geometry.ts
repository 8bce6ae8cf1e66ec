/**
 * Value classes for PostgreSQL's geometric types, named and shaped like asyncpg's: `Point`,
 * `Line`, `LineSegment`, `Box`, `Path`, `Polygon`, `Circle`.
 *
 * Coordinates are JS numbers holding the exact float8 values (NaN and ±Infinity included).
 * `toString()` prints exactly what PostgreSQL prints for the same value (`point::text`), so a
 * value can also be sent as text.
 *
 * @since 0.1.0
 */
import { formatFloat8 as f, parseFloat8 } from "./internal/float.ts"

/**
 * Something that can stand for a point: a {@link Point}, an `{ x, y }` object or an `[x, y]` pair.
 *
 * @since 0.1.0
 * @category models
 */
export type PointLike = Point | { readonly x: number; readonly y: number } | readonly [number, number]

const num = (what: string, n: unknown): number => {
  if (typeof n !== "number") throw new TypeError(`${what} must be a number, got ${typeof n}`)
  return n
}

const NO_POINTS: ReadonlyArray<Point> = []

const same = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b))

/**
 * A `point` `(x,y)`.
 *
 * @example
 * ```ts
 * import { Point } from "@pgfx/types/Geometry"
 * String(new Point(1.5, -2)) // "(1.5,-2)"
 * ```
 * @since 0.1.0
 * @category models
 */
export class Point {
  readonly x: number
  readonly y: number
  constructor(x: number, y: number) {
    this.x = num("x", x)
    this.y = num("y", y)
  }
  /** A Point from a {@link PointLike}. */
  static from(p: PointLike): Point {
    if (p instanceof Point) return p
    if (Array.isArray(p)) return new Point(p[0] as number, p[1] as number)
    const o = p as { readonly x: number; readonly y: number }
    return new Point(o.x, o.y)
  }
  /** `(x,y)`, as PostgreSQL prints it. */
  toString(): string {
    return `(${f(this.x)},${f(this.y)})`
  }
  /** True when both coordinates are the same numbers (NaN equals NaN). */
  equals(that: Point): boolean {
    return same(this.x, that.x) && same(this.y, that.y)
  }
}

/**
 * A `line` `{A,B,C}`: the infinite line `Ax + By + C = 0`.
 *
 * @since 0.1.0
 * @category models
 */
export class Line {
  readonly a: number
  readonly b: number
  readonly c: number
  constructor(a: number, b: number, c: number) {
    this.a = num("a", a)
    this.b = num("b", b)
    this.c = num("c", c)
  }
  /** `{A,B,C}`, as PostgreSQL prints it. */
  toString(): string {
    return `{${f(this.a)},${f(this.b)},${f(this.c)}}`
  }
  equals(that: Line): boolean {
    return same(this.a, that.a) && same(this.b, that.b) && same(this.c, that.c)
  }
}

/**
 * A line segment (`lseg`) `[(x1,y1),(x2,y2)]`.
 *
 * @since 0.1.0
 * @category models
 */
export class LineSegment {
  readonly p1: Point
  readonly p2: Point
  constructor(p1: PointLike, p2: PointLike) {
    this.p1 = Point.from(p1)
    this.p2 = Point.from(p2)
  }
  /** `[(x1,y1),(x2,y2)]`, as PostgreSQL prints it. */
  toString(): string {
    return `[${this.p1},${this.p2}]`
  }
  equals(that: LineSegment): boolean {
    return this.p1.equals(that.p1) && this.p2.equals(that.p2)
  }
}

/**
 * A `box`, stored like PostgreSQL stores it: `high` is the upper-right corner, `low` the
 * lower-left one. The constructor accepts any two opposite corners and sorts them, as the
 * server does.
 *
 * @since 0.1.0
 * @category models
 */
export class Box {
  readonly high: Point
  readonly low: Point
  constructor(high: PointLike, low: PointLike) {
    const a = Point.from(high)
    const b = Point.from(low)
    this.high = a.x >= b.x && a.y >= b.y ? a : new Point(Math.max(a.x, b.x), Math.max(a.y, b.y))
    this.low = a.x >= b.x && a.y >= b.y ? b : new Point(Math.min(a.x, b.x), Math.min(a.y, b.y))
  }
  /** `(x_high,y_high),(x_low,y_low)`, as PostgreSQL prints it. */
  toString(): string {
    return `${this.high},${this.low}`
  }
  equals(that: Box): boolean {
    return this.high.equals(that.high) && this.low.equals(that.low)
  }
}

/**
 * A `path`: open (`[(x1,y1),...]`) or closed (`((x1,y1),...)`).
 *
 * @since 0.1.0
 * @category models
 */
export class Path {
  readonly points: ReadonlyArray<Point>
  readonly isClosed: boolean
  constructor(points: Iterable<PointLike>, isClosed = false) {
    this.points = Array.from(points, Point.from)
    this.isClosed = isClosed
  }
  /** A path over `points` as given (no copy: the array must not be changed afterwards). */
  static ofPoints(points: ReadonlyArray<Point>, isClosed = false): Path {
    const p = new Path(NO_POINTS, isClosed)
    ;(p as { points: ReadonlyArray<Point> }).points = points
    return p
  }
  /** `[(..),(..)]` when open, `((..),(..))` when closed, as PostgreSQL prints it. */
  toString(): string {
    const body = this.points.join(",")
    return this.isClosed ? `(${body})` : `[${body}]`
  }
  equals(that: Path): boolean {
    return this.isClosed === that.isClosed && pointsEqual(this.points, that.points)
  }
}

/**
 * A `polygon` `((x1,y1),...)`.
 *
 * @since 0.1.0
 * @category models
 */
export class Polygon {
  readonly points: ReadonlyArray<Point>
  constructor(points: Iterable<PointLike>) {
    this.points = Array.from(points, Point.from)
  }
  /** A polygon over `points` as given (no copy: the array must not be changed afterwards). */
  static ofPoints(points: ReadonlyArray<Point>): Polygon {
    const p = new Polygon(NO_POINTS)
    ;(p as { points: ReadonlyArray<Point> }).points = points
    return p
  }
  /** `((x1,y1),...)`, as PostgreSQL prints it. */
  toString(): string {
    return `(${this.points.join(",")})`
  }
  equals(that: Polygon): boolean {
    return pointsEqual(this.points, that.points)
  }
}

/**
 * A `circle` `<(x,y),r>`.
 *
 * @since 0.1.0
 * @category models
 */
export class Circle {
  readonly center: Point
  readonly radius: number
  constructor(center: PointLike, radius: number) {
    this.center = Point.from(center)
    this.radius = num("radius", radius)
  }
  /** `<(x,y),r>`, as PostgreSQL prints it. */
  toString(): string {
    return `<${this.center},${f(this.radius)}>`
  }
  equals(that: Circle): boolean {
    return this.center.equals(that.center) && same(this.radius, that.radius)
  }
}

const pointsEqual = (a: ReadonlyArray<Point>, b: ReadonlyArray<Point>): boolean =>
  a.length === b.length && a.every((p, i) => p.equals(b[i]!))

/**
 * The numbers of a geometric literal (`"((1,2),(3,4))"` → `[1, 2, 3, 4]`); undefined when a
 * token is not a number.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseNumbers = (text: string): Array<number> | undefined => {
  const out: Array<number> = []
  let start = -1
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 44
    // ( ) [ ] { } < > , and whitespace separate numbers
    const sep =
      c === 40 || c === 41 || c === 91 || c === 93 || c === 123 || c === 125 || c === 60 || c === 62 || c === 44
    if (sep || c === 32) {
      if (start >= 0) {
        const n = parseFloat8(text.slice(start, i))
        if (n === undefined) return undefined
        out.push(n)
        start = -1
      }
    } else if (start < 0) {
      start = i
    }
  }
  return out
}
