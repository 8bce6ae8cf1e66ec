/**
 * SASLprep (RFC 4013, a stringprep profile from RFC 3454) for SCRAM passwords, computed the way
 * PostgreSQL's `pg_saslprep` (`src/common/saslprep.c`) computes it, so that the client derives
 * the same bytes the server derived when the password's SCRAM secret was created.
 *
 * Pure functions over strings; no I/O. The steps are:
 *
 * 1. Map: non-ASCII spaces (C.1.2) become U+0020; "commonly mapped to nothing" characters (B.1)
 *    are removed. A non-empty input that maps to nothing is rejected.
 * 2. Normalize: Unicode NFKC (`String.prototype.normalize("NFKC")`).
 * 3. Prohibit: C.1.2, C.2.1, C.2.2, C.3 to C.9 and code points unassigned in Unicode 3.2 (A.1).
 * 4. Bidi: if any RandALCat (D.1) character is present, no LCat (D.2) character may appear and
 *    the first and last characters must be RandALCat.
 *
 * Gotchas (deliberate, to match the server):
 * - Like `pg_saslprep`, steps 3 and 4 inspect the *mapped* code points (before NFKC), not the
 *   normalized output. RFC 3454 says "output"; PostgreSQL checks the mapped input. A client that
 *   follows the RFC letter would disagree with the server for a few compatibility characters.
 * - For pure-ASCII input PostgreSQL skips every step. {@link saslPrep} still rejects ASCII control
 *   characters (RFC 4013 behaviour), but {@link scramNormalizePassword} falls back to the raw
 *   password on any failure, so for ASCII input it always returns the input unchanged, exactly as
 *   libpq and the server do.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Result from "effect/Result"
import {
  inRanges,
  L_CAT,
  MAPPED_TO_NOTHING,
  NON_ASCII_SPACE,
  PROHIBITED_OUTPUT,
  RAND_AL_CAT,
  UNASSIGNED_3_2,
} from "./SaslPrepTables.ts"

/**
 * Why SASLprep rejected a string.
 *
 * - `"InvalidUnicode"`: the string holds a lone UTF-16 surrogate (it is not valid Unicode, the
 *   analogue of PostgreSQL's `SASLPREP_INVALID_UTF8`).
 * - `"Empty"`: a non-empty input that maps to the empty string.
 * - `"ProhibitedCharacter"`: a character from the prohibited-output tables (C.1.2, C.2 to C.9).
 * - `"UnassignedCodePoint"`: a code point unassigned in Unicode 3.2 (table A.1).
 * - `"BidiViolation"`: the RFC 3454 section 6 bidirectional rules are broken.
 *
 * @since 0.1.0
 */
export type SaslPrepErrorReason =
  "InvalidUnicode" | "Empty" | "ProhibitedCharacter" | "UnassignedCodePoint" | "BidiViolation"

/**
 * SASLprep failed. The message never contains the input (it is usually a password).
 *
 * @since 0.1.0
 */
export class SaslPrepError extends Data.TaggedError("SaslPrepError")<{
  readonly reason: SaslPrepErrorReason
  readonly message: string
}> {}

const fail = (reason: SaslPrepErrorReason, message: string): Result.Result<never, SaslPrepError> =>
  Result.fail(new SaslPrepError({ reason, message }))

/** Whether every UTF-16 unit is below 0x80. */
const isAscii = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) return false
  }
  return true
}

/** Whether an ASCII string contains a C.2.1 control character (0x00-0x1F, 0x7F). */
const hasAsciiControl = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return true
  }
  return false
}

/**
 * Prepares a string with SASLprep (RFC 4013) as PostgreSQL's `pg_saslprep` does.
 *
 * Returns the prepared string, or a {@link SaslPrepError} when the input holds a lone surrogate,
 * maps to the empty string, contains a prohibited or Unicode-3.2-unassigned character (checked on
 * the mapped, pre-NFKC code points, like PostgreSQL), or breaks the bidi rules. Pure ASCII without
 * control characters is returned as is. The empty string is returned as is.
 *
 * For SCRAM passwords use {@link scramNormalizePassword}, which applies libpq's fallback.
 *
 * @example
 * ```ts
 * import { saslPrep } from "@pgfx/protocol/SaslPrep"
 * import * as Result from "effect/Result"
 * Result.getOrThrow(saslPrep("I\u00ADX")) // "IX"
 * Result.getOrThrow(saslPrep("\u2168"))   // "IX" (ROMAN NUMERAL NINE, NFKC)
 * Result.isFailure(saslPrep("\u0007"))     // true (control character)
 * ```
 * @since 0.1.0
 */
export const saslPrep = (s: string): Result.Result<string, SaslPrepError> => {
  if (isAscii(s)) {
    return hasAsciiControl(s)
      ? fail("ProhibitedCharacter", "SASLprep: input contains a prohibited character")
      : Result.succeed(s)
  }

  // 1) Map, decoding UTF-16 to code points on the way.
  const mapped: Array<number> = []
  let mappedText = ""
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i)
    if (cp >= 0xd800 && cp <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0
      if (cp > 0xdbff || next < 0xdc00 || next > 0xdfff) {
        return fail("InvalidUnicode", "SASLprep: input is not valid Unicode (lone surrogate)")
      }
      cp = 0x10000 + ((cp - 0xd800) << 10) + (next - 0xdc00)
      i++
    }
    if (inRanges(NON_ASCII_SPACE, cp)) {
      mapped.push(0x20)
      mappedText += " "
    } else if (!inRanges(MAPPED_TO_NOTHING, cp)) {
      mapped.push(cp)
      mappedText += String.fromCodePoint(cp)
    }
  }
  if (mapped.length === 0) return fail("Empty", "SASLprep: input maps to the empty string")

  // 3) Prohibit, over the mapped code points (as pg_saslprep does).
  let hasRandAL = false
  for (const cp of mapped) {
    if (inRanges(PROHIBITED_OUTPUT, cp)) {
      return fail("ProhibitedCharacter", "SASLprep: input contains a prohibited character")
    }
    if (inRanges(UNASSIGNED_3_2, cp)) {
      return fail("UnassignedCodePoint", "SASLprep: input contains a code point unassigned in Unicode 3.2")
    }
    if (!hasRandAL && inRanges(RAND_AL_CAT, cp)) hasRandAL = true
  }

  // 4) Bidi (RFC 3454 section 6).
  if (hasRandAL) {
    if (!inRanges(RAND_AL_CAT, mapped[0]) || !inRanges(RAND_AL_CAT, mapped[mapped.length - 1])) {
      return fail("BidiViolation", "SASLprep: a right-to-left string must start and end with a right-to-left character")
    }
    for (const cp of mapped) {
      if (inRanges(L_CAT, cp)) {
        return fail("BidiViolation", "SASLprep: a string must not mix right-to-left and left-to-right characters")
      }
    }
  }

  // 2) Normalize (its result is what is returned; the checks above do not depend on it).
  return Result.succeed(mappedText.normalize("NFKC"))
}

/**
 * Normalizes a password for SCRAM exactly as libpq (and the server, when it builds a SCRAM
 * secret) does: the SASLprep result when {@link saslPrep} succeeds, otherwise the password
 * unchanged. Never fails.
 *
 * Details: when the raw password is used, the caller encodes it as UTF-8 (a lone surrogate becomes
 * U+FFFD). PostgreSQL uses the raw bytes of the password in the client encoding; passwords that are
 * not valid Unicode cannot be represented in a JS string, so this is the closest equivalent.
 *
 * @example
 * ```ts
 * import { scramNormalizePassword } from "@pgfx/protocol/SaslPrep"
 * scramNormalizePassword("pen\u00ADcil") // "pencil"
 * scramNormalizePassword("a\u0007b")     // "a\u0007b" (SASLprep fails, raw password is used)
 * ```
 * @since 0.1.0
 */
export const scramNormalizePassword = (password: string): string => {
  const prepared = saslPrep(password)
  return Result.isSuccess(prepared) ? prepared.success : password
}
