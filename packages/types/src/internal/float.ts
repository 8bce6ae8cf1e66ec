/**
 * `float8` text in PostgreSQL's own format (`float8out` with the default `extra_float_digits`):
 * the shortest digits that round-trip, fixed notation when the decimal exponent is in [-4, 15),
 * otherwise `d.ddde+XX` with at least two exponent digits. `NaN`, `Infinity`, `-Infinity`, `-0`.
 * The value classes use it so that `String(point)` equals the server's `point::text`.
 *
 * @internal
 */

/** PostgreSQL's text for a float8. @internal */
export const formatFloat8 = (n: number): string => {
  if (n === 0) return Object.is(n, -0) ? "-0" : "0"
  if (!Number.isFinite(n)) return Number.isNaN(n) ? "NaN" : n > 0 ? "Infinity" : "-Infinity"
  // toExponential() without digits gives the shortest round-trip digits: "-1.2345e-7"
  const e = n.toExponential()
  const at = e.indexOf("e")
  const negative = n < 0
  const mantissa = e.slice(negative ? 1 : 0, at)
  const exp = Number(e.slice(at + 1))
  const digits = mantissa.length > 1 ? mantissa[0] + mantissa.slice(2) : mantissa
  let out: string
  if (exp >= -4 && exp < 15) {
    if (exp < 0) out = `0.${"0".repeat(-exp - 1)}${digits}`
    else if (digits.length <= exp + 1) out = digits + "0".repeat(exp + 1 - digits.length)
    else out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`
  } else {
    const abs = Math.abs(exp)
    out = `${mantissa}e${exp < 0 ? "-" : "+"}${abs < 10 ? `0${abs}` : abs}`
  }
  return negative ? `-${out}` : out
}

/** Parses a float8 as PostgreSQL prints it (also `inf`, `-inf`); undefined for anything else. @internal */
export const parseFloat8 = (text: string): number | undefined => {
  const n = Number(text)
  if (!Number.isNaN(n)) return text.trim() === "" ? undefined : n
  if (text === "NaN") return n
  const lower = text.trim().toLowerCase()
  if (lower === "nan") return NaN
  if (lower === "inf" || lower === "+inf" || lower === "infinity" || lower === "+infinity") return Infinity
  if (lower === "-inf" || lower === "-infinity") return -Infinity
  return undefined
}
