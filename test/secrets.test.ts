/**
 * Secrets never leak: a small workload with a sentinel password (a SCRAM role, plus the MD5 and
 * cleartext roles) through a connection, a pool and a client — given as text, as a `Redacted`
 * and inside a URL — with a recording tracer, a capturing logger and a query logger installed.
 * Neither the passwords nor the SCRAM keys derived from the sentinel (salted password, client
 * key, stored key, server key) are reachable from any public object: not in
 * `util.inspect(x, { depth: Infinity, showHidden: true })`, and not by walking every property,
 * symbol, array, Map and Set (as text, hex, base64 or bytes).
 */
import * as PgClient from "@pgfx/client/PgClient"
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgPool from "@pgfx/client/PgPool"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Logger, Option, Redacted, References, Stream } from "effect"
import { createHash, createHmac, pbkdf2Sync } from "node:crypto"
import * as util from "node:util"
import { authUser, testCluster } from "./support/cluster.ts"
import { withAdmin } from "./support/connect.ts"
import { recordingTracer } from "./support/tracer.ts"

/** The SCRAM keys the server's verifier of `role` and `password` imply. */
const scramKeys = (verifier: string, password: string): ReadonlyArray<Uint8Array> => {
  // SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier)
  if (match === null) throw new Error("not a SCRAM verifier")
  const salted = pbkdf2Sync(password, Buffer.from(match[2]!, "base64"), Number(match[1]), 32, "sha256")
  const clientKey = createHmac("sha256", salted).update("Client Key").digest()
  const storedKey = createHash("sha256").update(clientKey).digest()
  const serverKey = createHmac("sha256", salted).update("Server Key").digest()
  expect(storedKey.toString("base64")).toBe(match[3])
  expect(serverKey.toString("base64")).toBe(match[4])
  return [salted, clientKey, storedKey, serverKey].map((b) => new Uint8Array(b))
}

const containsBytes = (haystack: Uint8Array, needle: Uint8Array): boolean => {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}

/** Paths under `root` where a needle is found, walking every reachable value (getters are not called). */
const findSecrets = (root: unknown, texts: ReadonlyArray<string>, bytes: ReadonlyArray<Uint8Array>): Array<string> => {
  const found: Array<string> = []
  const seen = new Set<unknown>()
  const stack: Array<[unknown, string]> = [[root, "$"]]
  while (stack.length > 0 && found.length < 10) {
    const [value, path] = stack.pop()!
    if (typeof value === "string") {
      if (texts.some((t) => value.includes(t))) found.push(path)
      continue
    }
    if ((typeof value !== "object" && typeof value !== "function") || value === null || seen.has(value)) continue
    seen.add(value)
    if (ArrayBuffer.isView(value)) {
      const view = new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
      if (bytes.some((b) => containsBytes(view, b))) found.push(path)
      continue
    }
    if (value instanceof ArrayBuffer) {
      if (bytes.some((b) => containsBytes(new Uint8Array(value), b))) found.push(path)
      continue
    }
    if (value instanceof Map) for (const [k, v] of value) stack.push([k, `${path}<key>`], [v, `${path}.get()`])
    if (value instanceof Set) for (const v of value) stack.push([v, `${path}<item>`])
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key)
      if (descriptor !== undefined && "value" in descriptor) stack.push([descriptor.value, `${path}.${String(key)}`])
    }
    const proto = Object.getPrototypeOf(value)
    if (proto !== null && proto !== Object.prototype && proto !== Function.prototype) stack.push([proto, path])
  }
  return found
}

describe("secrets", () => {
  it.live("no password or SCRAM key is reachable from connections, pools, clients, errors, spans or logs", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const secret = authUser("secret")
      const md5 = authUser("md5")
      const clear = authUser("clear")
      const password = secret.password!
      const verifier = yield* withAdmin((admin) =>
        Effect.map(
          admin.fetchVal("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [secret.name]),
          Option.getOrThrow,
        ),
      )
      const keys = scramKeys(verifier as string, password)
      const texts = [
        password,
        md5.password!,
        clear.password!,
        ...keys.flatMap((k) => [Buffer.from(k).toString("hex"), Buffer.from(k).toString("base64")]),
      ]

      const { spans, tracer } = recordingTracer()
      const logs: Array<unknown> = []
      const capture = Logger.make((options) => {
        logs.push({ message: options.message, annotations: options.fiber.getRef(References.CurrentLogAnnotations) })
      })
      const records: Array<unknown> = []
      const objects: Record<string, unknown> = {}
      const check = (all: Record<string, unknown>) => {
        for (const [name, value] of Object.entries(all)) {
          const shown = util.inspect(value, { depth: Infinity, showHidden: true })
          for (const text of texts) expect(shown.includes(text), `${name} shows a secret`).toBe(false)
          expect(findSecrets(value, texts, keys), `${name} holds a secret`).toEqual([])
        }
      }
      const base = { host: pg.host, port: pg.port, database: pg.database, sslMode: "disable" as const }

      yield* Effect.gen(function* () {
        const conn = yield* PgConnection.make({ ...base, user: secret.name, password })
        yield* conn.addQueryLogger((record) => records.push(record))
        Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int", [1]))
        objects.queryError = yield* Effect.flip(Effect.map(conn.fetchVal("SELECT 1/0"), Option.getOrThrow))
        objects.connection = conn
        objects.redactedConnection = yield* PgConnection.make({
          ...base,
          user: secret.name,
          password: Redacted.make(password),
        })
        objects.md5Connection = yield* PgConnection.make({ ...base, user: md5.name, password: md5.password! })
        objects.clearConnection = yield* PgConnection.make({ ...base, user: clear.name, password: clear.password! })
        objects.authError = yield* Effect.flip(
          PgConnection.make({ ...base, user: secret.name, password: `${password}-wrong` }),
        )

        const pool = yield* PgPool.make({ ...base, user: secret.name, password, min: 1, max: 2 })
        Option.getOrThrow(yield* pool.fetchVal("SELECT 1"))
        yield* pool.withConnection((conn) => conn.execute("SELECT 2"))
        objects.pool = pool
        objects.poolConnection = yield* pool.acquire()

        const url = `postgres://${secret.name}:${password}@${pg.host}:${pg.port}/${pg.database}?sslmode=disable`
        const client = yield* PgClient.make(url)
        Option.getOrThrow(yield* client.fetchVal("SELECT 1"))
        yield* client.transaction(client.execute("SELECT 3"))
        // The client's listener opens its own connection for a subscription.
        const heard = yield* Effect.forkChild(Stream.runDrain(client.listen("secrets_chan").pipe(Stream.take(1))))
        for (let i = 0; i < 200 && heard.pollUnsafe() === undefined; i++) {
          yield* client.notify("secrets_chan", "x")
          yield* Effect.sleep("50 millis")
        }
        yield* Fiber.join(heard)
        objects.client = client
        objects.urlPool = yield* PgPool.make({ url, min: 1, max: 1 })
        yield* Effect.logWarning("a workload log line")
        // While everything is alive.
        check(objects)
      }).pipe(
        Effect.scoped,
        Effect.withTracer(tracer),
        Effect.provideService(Logger.CurrentLoggers, new Set([capture])),
      )

      expect(spans.length).toBeGreaterThan(0)
      expect(records.length).toBeGreaterThan(0)
      expect(logs.length).toBeGreaterThan(0)
      // After the scope closed, and what was recorded on the way.
      check({ ...objects, spans, logs, records })
    }),
  )
})
