/**
 * Seeded random JSON documents for property tests, written in the compact form `JSON.stringify`
 * gives (so `JSON.stringify(parseExact(doc)) === doc`): deep and wide nesting, strings with every
 * escape (but `\u0000`, which jsonb refuses) and non-BMP characters, unique non-numeric keys
 * without escapes, and numbers beyond double precision
 * (long integers, long decimals, large exponents — all finite as doubles, never `-0`).
 *
 * Keys carry no escaped characters: Node 24's `JSON.parse` can return a wrong key for an escaped
 * one (`"k\f"` read as `"k\\"`) after parsing certain other documents — an engine bug this suite
 * is not about.
 */

/** mulberry32: a small seeded PRNG in [0, 1). */
const prng = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SPECIAL = ['"', "\\", "/", "\b", "\f", "\n", "\r", "\t", "\u0001", "\u001f", "\u007f", "\u2028", "é", "✓"]

export const randomJsonText = (count: number, seed: number): Array<string> => {
  const r = prng(seed)
  const int = (n: number): number => Math.floor(r() * n)
  const digits = (n: number): string => {
    let s = String(1 + int(9))
    for (let i = 1; i < n; i++) s += String(int(10))
    return s
  }
  const str = (): string => {
    let s = ""
    const n = int(12)
    for (let i = 0; i < n; i++) {
      const k = r()
      if (k < 0.3) s += SPECIAL[int(SPECIAL.length)]
      else if (k < 0.4)
        s += String.fromCodePoint(0x10000 + int(0xfffff)) // astral: a surrogate pair
      else if (k < 0.5)
        s += String.fromCharCode(0x100 + int(0xd000)) // BMP below the surrogates
      else s += String.fromCharCode(0x20 + int(0x5f))
    }
    return s
  }
  const num = (): string => {
    const k = r()
    const sign = r() < 0.3 ? "-" : ""
    if (k < 0.3) return String(int(2000) - 1000 || 1)
    if (k < 0.5) return String((r() - 0.5) * 10 ** (int(40) - 20))
    if (k < 0.7) return sign + digits(17 + int(30)) // beyond 2^53
    if (k < 0.85) return `${sign}${digits(1 + int(5))}.${digits(15 + int(25))}` // beyond double precision
    return `${sign}${digits(1)}.${digits(1 + int(20))}e${r() < 0.5 ? "-" : ""}${1 + int(290)}`
  }
  const value = (depth: number): string => {
    const k = r()
    if (depth > 0 && k < 0.2) {
      const n = int(depth > 4 ? 3 : 12)
      const items: Array<string> = []
      for (let i = 0; i < n; i++) items.push(value(depth - 1))
      return `[${items.join(",")}]`
    }
    if (depth > 0 && k < 0.4) {
      const n = int(depth > 4 ? 3 : 12)
      const keys = new Set<string>()
      const items: Array<string> = []
      for (let i = 0; i < n; i++) {
        const key = `k${str().replace(/[\u0000-\u001f"\\]/g, "_")}`
        if (keys.has(key)) continue
        keys.add(key)
        items.push(`${JSON.stringify(key)}:${value(depth - 1)}`)
      }
      return `{${items.join(",")}}`
    }
    if (k < 0.6) return JSON.stringify(str())
    if (k < 0.85) return num()
    return ["true", "false", "null"][int(3)]!
  }
  return Array.from({ length: count }, () => value(1 + int(8)))
}
