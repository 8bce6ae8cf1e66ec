/**
 * The unprivileged account PostgreSQL runs as when we are root.
 *
 * PostgreSQL refuses to run as root. When the test process is root (CI containers),
 * `initdb`, `postgres --single` and the postmaster are spawned with the uid/gid of
 * an unprivileged account, and everything they must write is chowned to it.
 *
 * @internal
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { Effect } from "effect"
import type { TempClusterError } from "../TempClusterError.ts"
import { fail } from "./fail.ts"
import { type RunAs, run } from "./proc.ts"

/** True when this process runs as root (never on Windows). */
export const isRoot = (): boolean => process.getuid?.() === 0

const fromPasswd = (name: string): RunAs | undefined => {
  let text: string
  try {
    text = Fs.readFileSync("/etc/passwd", "utf8")
  } catch {
    return undefined
  }
  for (const line of text.split("\n")) {
    const fields = line.split(":")
    if (fields[0] === name && fields.length >= 4) {
      const uid = Number(fields[2])
      const gid = Number(fields[3])
      if (Number.isInteger(uid) && Number.isInteger(gid)) return { name, uid, gid }
    }
  }
  return undefined
}

const fromId = (name: string): Effect.Effect<RunAs | undefined, TempClusterError> =>
  Effect.gen(function* () {
    const uid = yield* run("id", ["-u", name])
    const gid = yield* run("id", ["-g", name])
    if (uid.code !== 0 || gid.code !== 0) return undefined
    const u = Number(uid.stdout.trim())
    const g = Number(gid.stdout.trim())
    return Number.isInteger(u) && Number.isInteger(g) ? { name, uid: u, gid: g } : undefined
  }).pipe(Effect.catch(() => Effect.succeed(undefined)))

/** Look up an account by name (passwd file first, then `id`, which also sees NSS users). */
export const lookupUser = (name: string): Effect.Effect<RunAs | undefined, TempClusterError> =>
  Effect.suspend(() => {
    const found = fromPasswd(name)
    return found === undefined ? fromId(name) : Effect.succeed(found)
  })

/**
 * The account to run PostgreSQL as: `undefined` when we are not root (run as
 * ourselves); otherwise the requested account, else `pgfx` if it exists, else `nobody`.
 */
export const resolveRunAs = (requested: string | undefined): Effect.Effect<RunAs | undefined, TempClusterError> =>
  Effect.gen(function* () {
    if (!isRoot()) return undefined
    if (requested !== undefined) {
      const user = yield* lookupUser(requested)
      if (user === undefined) {
        return yield* Effect.fail(
          fail("InvalidOptions", `the account "${requested}" (to run PostgreSQL as) does not exist`),
        )
      }
      if (user.uid === 0) {
        return yield* Effect.fail(fail("InvalidOptions", `PostgreSQL cannot run as root ("${requested}")`))
      }
      return user
    }
    for (const name of ["pgfx", "nobody"]) {
      const user = yield* lookupUser(name)
      if (user !== undefined && user.uid !== 0) return user
    }
    return yield* Effect.fail(
      fail(
        "InvalidOptions",
        "running as root, and neither a 'pgfx' nor a 'nobody' account exists to run PostgreSQL as",
      ),
    )
  })

/** Give `path` (recursively) to the server account; no-op when not root. */
export const chownTree = (path: string, runAs: RunAs | undefined): void => {
  if (runAs === undefined) return
  const visit = (p: string): void => {
    const stat = Fs.lstatSync(p)
    Fs.lchownSync(p, runAs.uid, runAs.gid)
    if (stat.isDirectory()) for (const entry of Fs.readdirSync(p)) visit(Path.join(p, entry))
  }
  visit(path)
}

/**
 * Whether `runAs` can walk down to `path` by its mode bits (owner, group, other),
 * checking every ancestor. Good enough to pick a temp root; binaries are checked by
 * actually running them.
 */
export const canTraverse = (path: string, runAs: RunAs): boolean => {
  let current = Path.resolve(path)
  for (;;) {
    let stat: Fs.Stats
    try {
      stat = Fs.statSync(current)
    } catch {
      return false
    }
    const bit = stat.uid === runAs.uid ? 0o100 : stat.gid === runAs.gid ? 0o010 : 0o001
    if ((stat.mode & bit) === 0) return false
    const parent = Path.dirname(current)
    if (parent === current) return true
    current = parent
  }
}

/** A temp root both we and the server account can use. */
export const tempRoot = (runAs: RunAs | undefined): string => {
  const tmp = Os.tmpdir()
  if (runAs === undefined || canTraverse(tmp, runAs)) return tmp
  return canTraverse("/tmp", runAs) ? "/tmp" : tmp
}
