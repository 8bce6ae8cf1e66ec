/**
 * The server's version as a comparable value, parsed from the `server_version` parameter the
 * same way asyncpg's `ServerVersion` is.
 *
 * For PostgreSQL 10 and later the version has two parts ("18.1"): `major` is 18, `minor` is 0 and
 * `micro` is 1 (asyncpg's convention). For 9.x, "9.6.24" gives 9, 6, 24. Pre-releases
 * ("18beta2", "17rc1", "19devel") set `releaseLevel` to "beta", "rc" or "devel" and `serial` to
 * their number.
 *
 * @since 0.1.0
 */

/** A parsed server version. @since 0.1.0 */
export interface ServerVersion {
  readonly major: number
  readonly minor: number
  readonly micro: number
  readonly releaseLevel: "final" | "beta" | "rc" | "alpha" | "devel"
  readonly serial: number
  /** The raw `server_version` string. */
  readonly raw: string
}

/**
 * Parses a `server_version` string ("18.1", "15.18 (Debian 15.18-0+deb12u1)", "18beta2").
 *
 * @example
 * ```ts
 * parse("16.4").major // 16
 * ```
 * @since 0.1.0
 */
export const parse = (raw: string): ServerVersion => {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*(alpha|beta|rc|devel)?(\d*)/.exec(raw.trim())
  if (m === null) return { major: 0, minor: 0, micro: 0, releaseLevel: "final", serial: 0, raw }
  const major = Number(m[1])
  const second = m[2] === undefined ? 0 : Number(m[2])
  const third = m[3] === undefined ? 0 : Number(m[3])
  const level = (m[4] ?? "final") as ServerVersion["releaseLevel"]
  const serial = m[5] ? Number(m[5]) : 0
  return major >= 10
    ? { major, minor: 0, micro: second, releaseLevel: level, serial, raw }
    : { major, minor: second, micro: third, releaseLevel: level, serial, raw }
}

/**
 * Compares two versions: negative when `a` is older, 0 when equal, positive when newer.
 * @since 0.1.0
 */
export const compare = (a: ServerVersion, b: ServerVersion): number => {
  const levels = ["devel", "alpha", "beta", "rc", "final"]
  return (
    a.major - b.major ||
    a.minor - b.minor ||
    a.micro - b.micro ||
    levels.indexOf(a.releaseLevel) - levels.indexOf(b.releaseLevel) ||
    a.serial - b.serial
  )
}
