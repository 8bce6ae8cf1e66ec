/**
 * The session writes the requests of one tick together (internal/wire/Session.ts): callers that
 * call from Promise code — one `Effect.runPromise` per call — on one connection share one write
 * system call even when each resumes at a different depth of promise jobs, and each still gets
 * its own row; a serial caller's request goes out on its own, in the same tick.
 */
import { Connection } from "@pgfx/client/internal/connection/Connection"
import { unguard } from "@pgfx/client/internal/pool/Lease"
import * as PgPool from "@pgfx/client/PgPool"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import type * as net from "node:net"
import { connect } from "./support/connect.ts"
import { poolOptions } from "./support/pool.ts"

const SQL = "SELECT $1::int4 + 1"

/** Records the size of every `write` call on the connection's socket (whitebox). */
const recordWrites = (conn: unknown): { readonly sizes: Array<number>; readonly stop: () => void } => {
  const raw = unguard(conn as Connection)
  if (!(raw instanceof Connection)) throw new Error("not a pgfx connection")
  const socket: net.Socket = raw.session.socket
  const write = socket.write
  const sizes: Array<number> = []
  socket.write = function (this: net.Socket, chunk: Uint8Array, ...rest: Array<never>) {
    sizes.push(chunk.length)
    return write.call(this, chunk, ...rest)
  } as typeof socket.write
  return { sizes, stop: () => (socket.write = write) }
}

/** Five serial calls from Promise code (one `runPromise` each, awaited in turn); their values. */
const serialCalls = (target: {
  fetchVal: (sql: string, args: ReadonlyArray<unknown>) => Effect.Effect<Option.Option<unknown>, unknown>
}) =>
  Effect.promise(async () => {
    const out: Array<unknown> = []
    for (let i = 0; i < 5; i++) out.push(Option.getOrThrow(await Effect.runPromise(target.fetchVal(SQL, [i]))))
    return out
  })

describe("write coalescing", () => {
  it.live("concurrent runPromise calls on one connection, resumed at different promise depths, share one write", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      Option.getOrThrow(yield* conn.fetchVal(SQL, [0])) // the statement is prepared: the fast path
      const writes = recordWrites(conn)
      const values = yield* Effect.promise(() =>
        Promise.all(
          Array.from({ length: 10 }, (_, i) => {
            let ready: Promise<void> = Promise.resolve()
            for (let depth = 0; depth < i % 4; depth++) ready = ready.then(() => undefined)
            return ready.then(() => Effect.runPromise(conn.fetchVal(SQL, [i])))
          }),
        ),
      )
      writes.stop()
      expect(values.map((v) => Option.getOrThrow(v))).toEqual(Array.from({ length: 10 }, (_, i) => i + 1))
      expect(writes.sizes).toHaveLength(1)
    }),
  )

  it.live("serial runPromise calls: one write per query, each answered", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      Option.getOrThrow(yield* conn.fetchVal(SQL, [0]))
      const writes = recordWrites(conn)
      const values = yield* serialCalls(conn)
      writes.stop()
      expect(values).toEqual([1, 2, 3, 4, 5])
      expect(writes.sizes).toHaveLength(5)
    }),
  )

  it.live("serial runPromise calls through a pool: the release's reset and the next query share one write", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 1, max: 1 }))
      // Prepares the statement and the reset's own statements.
      for (let i = 0; i < 2; i++) Option.getOrThrow(yield* pool.fetchVal(SQL, [0]))
      const writes = yield* pool.withConnection((conn) => Effect.sync(() => recordWrites(conn)))
      const values = yield* serialCalls(pool)
      writes.stop()
      expect(values).toEqual([1, 2, 3, 4, 5])
      // withConnection's release wrote a reset before the first query: each query's write carries
      // the reset of the release before it (two writes per query when they are written apart).
      // The last release's reset may come after the recording stopped.
      expect(writes.sizes.length).toBeGreaterThanOrEqual(5)
      expect(writes.sizes.length).toBeLessThanOrEqual(6)
      expect(new Set(writes.sizes.slice(0, 5)).size).toBe(1)
    }),
  )
})
