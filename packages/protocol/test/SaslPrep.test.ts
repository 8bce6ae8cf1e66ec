import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import { saslPrep, scramNormalizePassword } from "../src/SaslPrep.ts"
import {
  inRanges,
  L_CAT,
  MAPPED_TO_NOTHING,
  NON_ASCII_SPACE,
  PROHIBITED_OUTPUT,
  RAND_AL_CAT,
  UNASSIGNED_3_2,
} from "../src/SaslPrepTables.ts"

const ok = (s: string): string => {
  const r = saslPrep(s)
  if (Result.isFailure(r)) throw new Error(`expected success, got ${r.failure.reason}`)
  return r.success
}

const reason = (s: string): string | undefined => {
  const r = saslPrep(s)
  return Result.isFailure(r) ? r.failure.reason : undefined
}

describe("SaslPrep", () => {
  describe("RFC 4013 section 3 examples", () => {
    it("maps SOFT HYPHEN to nothing", () => expect(ok("I\u00ADX")).toBe("IX"))
    it("leaves ASCII alone", () => {
      expect(ok("user")).toBe("user")
      expect(ok("USER")).toBe("USER")
    })
    it("NFKC-normalizes", () => {
      expect(ok("\u00AA")).toBe("a")
      expect(ok("\u2168")).toBe("IX")
    })
    it("prohibits control characters", () => expect(reason("\u0007")).toBe("ProhibitedCharacter"))
    it("enforces the bidi rules", () => expect(reason("\u0627\u0031")).toBe("BidiViolation"))
  })

  it("maps every non-ASCII space (C.1.2) to U+0020", () => {
    for (const space of ["\u00A0", "\u1680", "\u2000", "\u2005", "\u200A", "\u200B", "\u202F", "\u205F", "\u3000"]) {
      expect(ok(`a${space}b`)).toBe("a b")
    }
  })

  it("removes the B.1 characters", () => {
    expect(ok("a\u034F\u1806\u180B\u200C\u200D\u2060\uFE00\uFE0F\uFEFFb")).toBe("ab")
  })

  it("rejects input that maps to nothing, but accepts the empty string", () => {
    expect(reason("\u00AD")).toBe("Empty")
    expect(reason("\u200D\uFEFF")).toBe("Empty")
    expect(ok("")).toBe("")
  })

  it("rejects prohibited output characters", () => {
    expect(reason("a\u0085")).toBe("ProhibitedCharacter") // C.2.2
    expect(reason("\u00E9\u007F")).toBe("ProhibitedCharacter") // C.2.1 in a non-ASCII string
    expect(reason("\u00E9\uE000")).toBe("ProhibitedCharacter") // C.3 private use
    expect(reason("\u00E9\uFDD0")).toBe("ProhibitedCharacter") // C.4 non-character
    expect(reason("\u00E9\uFFFD")).toBe("ProhibitedCharacter") // C.6
    expect(reason("\u00E9\u2FF0")).toBe("ProhibitedCharacter") // C.7
    expect(reason("\u00E9\u200E")).toBe("ProhibitedCharacter") // C.8
    expect(reason("\u00E9\u{E0001}")).toBe("ProhibitedCharacter") // C.9
    expect(reason("\u00E9\u{F0000}")).toBe("ProhibitedCharacter") // C.3 plane 15
  })

  it("rejects lone surrogates", () => {
    expect(reason("\u00E9\uD800")).toBe("InvalidUnicode")
    expect(reason("\uDC00\u00E9")).toBe("InvalidUnicode")
  })

  it("rejects code points unassigned in Unicode 3.2, even when assigned today", () => {
    expect(reason("\u00E9\u0221")).toBe("UnassignedCodePoint") // assigned in Unicode 4.0
    expect(reason("\u{1F600}")).toBe("UnassignedCodePoint") // emoji (Unicode 6.1)
    // U+1F100 (Unicode 5.2) NFKC-normalizes to "0." — PostgreSQL checks the mapped input, so it fails.
    expect(reason("\u{1F100}")).toBe("UnassignedCodePoint")
  })

  it("handles astral characters assigned in 3.2", () => {
    expect(ok("\u{1D400}")).toBe("A") // MATHEMATICAL BOLD CAPITAL A
    expect(ok("x\u{20000}")).toBe("x\u{20000}") // CJK Extension B
  })

  it("accepts well-formed right-to-left strings", () => {
    expect(ok("\u0627\u0628")).toBe("\u0627\u0628")
    expect(ok("\u0627\u0031\u0628")).toBe("\u0627\u0031\u0628") // neutral digit in the middle
    expect(reason("\u0031\u0627")).toBe("BidiViolation")
    expect(reason("\u0627a\u0628")).toBe("BidiViolation") // mixes RandAL and L
  })

  it("normalizes composed and compatibility forms", () => {
    expect(ok("e\u0301")).toBe("\u00E9")
    expect(ok("\uFB01")).toBe("fi")
    expect(ok("\uFF21")).toBe("A")
  })

  describe("scramNormalizePassword", () => {
    it("returns the SASLprep result when it succeeds", () => {
      expect(scramNormalizePassword("pen\u00ADcil")).toBe("pencil")
      expect(scramNormalizePassword("\u2168")).toBe("IX")
      expect(scramNormalizePassword("a\u00A0b")).toBe("a b")
    })
    it("falls back to the raw password like libpq", () => {
      expect(scramNormalizePassword("a\u0007b")).toBe("a\u0007b")
      expect(scramNormalizePassword("\u0627\u0031")).toBe("\u0627\u0031")
      expect(scramNormalizePassword("\u00AD")).toBe("\u00AD")
      expect(scramNormalizePassword("\u{1F600}pw")).toBe("\u{1F600}pw")
    })
    it("never changes pure ASCII", () => {
      for (let c = 0; c < 0x80; c++) {
        const s = `x${String.fromCharCode(c)}y`
        expect(scramNormalizePassword(s)).toBe(s)
      }
      expect(scramNormalizePassword("")).toBe("")
    })
  })

  describe("tables", () => {
    const tables = { NON_ASCII_SPACE, MAPPED_TO_NOTHING, PROHIBITED_OUTPUT, UNASSIGNED_3_2, RAND_AL_CAT, L_CAT }
    it("are sorted, disjoint, inclusive range pairs", () => {
      for (const table of Object.values(tables)) {
        expect(table.length % 2).toBe(0)
        for (let i = 0; i < table.length; i += 2) {
          expect(table[i]).toBeLessThanOrEqual(table[i + 1])
          if (i > 0) expect(table[i]).toBeGreaterThan(table[i - 1])
        }
      }
    })
    it("have the expected sizes (RFC 3454 / PostgreSQL saslprep.c)", () => {
      expect(UNASSIGNED_3_2.length / 2).toBe(396)
      expect(L_CAT.length / 2).toBe(360)
      expect(RAND_AL_CAT.length / 2).toBe(34)
    })
    it("look up boundaries exactly", () => {
      expect(inRanges(UNASSIGNED_3_2, 0x0220)).toBe(false)
      expect(inRanges(UNASSIGNED_3_2, 0x0221)).toBe(true)
      expect(inRanges(UNASSIGNED_3_2, 0x0234)).toBe(true)
      expect(inRanges(UNASSIGNED_3_2, 0x024f)).toBe(true)
      expect(inRanges(UNASSIGNED_3_2, 0x0250)).toBe(false)
      expect(inRanges(UNASSIGNED_3_2, 0xeffff)).toBe(false)
      expect(inRanges(PROHIBITED_OUTPUT, 0x10ffff)).toBe(true)
      expect(inRanges(PROHIBITED_OUTPUT, 0x20)).toBe(false)
      expect(inRanges(L_CAT, 0x41)).toBe(true)
      expect(inRanges(L_CAT, 0x40)).toBe(false)
      expect(inRanges(new Uint32Array(0), 5)).toBe(false)
    })
  })
})
