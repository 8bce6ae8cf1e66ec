import { createHash } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { md5Password } from "../src/Md5.ts"

/** Independent computation straight from the definition, on Buffers. */
const reference = (user: string, password: string, salt: Uint8Array): string => {
  const inner = createHash("md5").update(Buffer.concat([Buffer.from(password, "utf8"), Buffer.from(user, "utf8")]))
  const innerHex = Buffer.from(inner.digest("hex"), "ascii")
  return `md5${createHash("md5")
    .update(Buffer.concat([innerHex, Buffer.from(salt)]))
    .digest("hex")}`
}

describe("Md5", () => {
  it("matches fixed vectors (computed with Python's hashlib)", () => {
    expect(md5Password("postgres", "secret", Uint8Array.of(1, 2, 3, 4))).toBe("md5bb41a296aab6baccb36ff243a562abff")
    expect(md5Password("md5_user", "password", Uint8Array.of(0x2a, 0x3d, 0x8f, 0xe0))).toBe(
      "md562af4dd09bbb41884907a838a3233294",
    )
  })

  it("hashes user name and password as UTF-8 and the salt as raw bytes", () => {
    const salt = Uint8Array.of(0xff, 0x00, 0x80, 0x7f)
    expect(md5Password("jürgen", "pässwörd", salt)).toBe("md5dea6a909a5ed00dfcb79269f4db1aaef")
    expect(md5Password("jürgen", "pässwörd", salt)).toBe(reference("jürgen", "pässwörd", salt))
  })

  it("inner hash is md5(password + user), the form stored in pg_authid", () => {
    // pg_authid.rolpassword for user md5_user / password "password" is "md5" + this digest.
    expect(createHash("md5").update("passwordmd5_user").digest("hex")).toBe("7cd2b9a92689eab2e58caf2da80afa15")
    const salt = Uint8Array.of(9, 8, 7, 6)
    const expected = `md5${createHash("md5").update("7cd2b9a92689eab2e58caf2da80afa15").update(salt).digest("hex")}`
    expect(md5Password("md5_user", "password", salt)).toBe(expected)
  })

  it("always returns 'md5' + 32 lowercase hex digits and agrees with the reference", () => {
    for (let i = 0; i < 50; i++) {
      const salt = Uint8Array.of(i, i * 7, i * 13, 255 - i)
      const user = `u${i}`
      const password = "p".repeat(i)
      const result = md5Password(user, password, salt)
      expect(result).toMatch(/^md5[0-9a-f]{32}$/)
      expect(result).toBe(reference(user, password, salt))
    }
  })
})
