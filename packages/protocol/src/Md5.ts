/**
 * The response to PostgreSQL's `AuthenticationMD5Password` challenge.
 *
 * Pure computation with `node:crypto`; no I/O. MD5 password authentication is deprecated in
 * PostgreSQL (18 warns when such a password is set); prefer SCRAM-SHA-256 (`Scram.ts`).
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"

const textEncoder = new TextEncoder()

/**
 * Computes the password a client sends in reply to `AuthenticationMD5Password`:
 * `"md5" + md5hex(md5hex(password + user) + salt)`, where `password + user` is UTF-8 encoded and
 * `salt` is the 4 raw bytes from the server message appended to the 32 ASCII hex digits of the
 * inner hash. The result is 35 ASCII characters; send it as a `PasswordMessage` string.
 *
 * Does not fail. The password and user name are used as given (no SASLprep, no trimming).
 *
 * @example
 * ```ts
 * import { md5Password } from "@pgfx/protocol/Md5"
 * md5Password("postgres", "secret", Uint8Array.of(1, 2, 3, 4)) // "md5..." (35 characters)
 * ```
 * @since 0.1.0
 */
export const md5Password = (user: string, password: string, salt: Uint8Array): string => {
  const inner = createHash("md5").update(textEncoder.encode(password)).update(textEncoder.encode(user)).digest("hex")
  const outer = createHash("md5").update(inner, "latin1").update(salt).digest("hex")
  return `md5${outer}`
}
