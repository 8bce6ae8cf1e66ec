/**
 * The admission gate (internal/Gate.ts) without a connection: requests are `ready`/`run` pairs as
 * the connection builds them (room under the pipelining rule, and the transaction level that owns
 * the connection), and the tests check who is written when — in FIFO order, never two at once
 * without pipelining, never a request of another level while a transaction owns the connection,
 * and nothing of a withdrawn request.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, type Fiber } from "effect"
import type { PgConnection } from "../src/PgConnection.ts"
import { activeFrom, Gate, Level, levelIn } from "../src/internal/wire/Gate.ts"
import { PgTransaction } from "../src/internal/Handles.ts"

/** A stand-in for a connection: the gate only compares connections by identity. */
const connection = (): PgConnection => ({}) as PgConnection

/** A stand-in for a fiber: the gate reads its Context and compares it by identity. */
const fiber = (level?: Level): Fiber.Fiber<unknown, unknown> =>
  ({
    context: level === undefined ? Context.empty() : Context.make(PgTransaction, level),
  }) as unknown as Fiber.Fiber<unknown, unknown>

const level = (conn: PgConnection, parent?: Level, ownerFiber?: Fiber.Fiber<unknown, unknown>) =>
  new Level({
    connection: conn,
    parent,
    outer: undefined,
    isolation: undefined,
    readOnly: false,
    deferrable: false,
    ownerFiber,
  })

/**
 * A gate and a way to submit requests to it as the connection does: a request may be written
 * when the pipelining rule leaves room and the connection is free or owned by the request's level;
 * writing it counts it in flight and records it in `written`.
 */
const harness = (pipelining: boolean) => {
  const gate = new Gate(pipelining)
  const written: Array<string> = []
  const submit = (name: string, at?: Level) =>
    gate.enter(
      () => gate.hasRoom && (gate.owner === undefined || gate.owner === at),
      () => {
        gate.inFlight++
        written.push(name)
      },
    )
  return { gate, written, submit }
}

describe("Gate: the pipelining rule", () => {
  it("with pipelining, every request is written at once", () => {
    const { gate, written, submit } = harness(true)
    expect(submit("a")).toBeUndefined()
    expect(submit("b")).toBeUndefined()
    expect(written).toEqual(["a", "b"])
    expect(gate.inFlight).toBe(2)
  })

  it("without pipelining, one request is in flight; the next is written when it settles, in FIFO order", () => {
    const { gate, written, submit } = harness(false)
    submit("a")
    expect(submit("b")).toBeDefined()
    submit("c")
    expect(written).toEqual(["a"])
    gate.settled()
    expect(written).toEqual(["a", "b"])
    gate.settled()
    expect(written).toEqual(["a", "b", "c"])
    gate.settled()
    expect(gate.inFlight).toBe(0)
  })

  it("an exclusive request (a COPY) stops later writes even with pipelining", () => {
    const { gate, written, submit } = harness(true)
    submit("copy")
    gate.exclusive = true
    submit("after")
    expect(written).toEqual(["copy"])
    gate.exclusive = false
    gate.settled()
    expect(written).toEqual(["copy", "after"])
  })

  it("a withdrawn request is never written; removing it twice or after it ran is harmless", () => {
    const { gate, written, submit } = harness(false)
    submit("a")
    const b = submit("b")
    submit("c")
    gate.remove(b)
    gate.remove(b)
    gate.settled()
    expect(written).toEqual(["a", "c"])
    gate.remove(undefined)
  })

  it("a request written while the gate wakes waiters (re-entrant settle) is handled in the same pass", () => {
    const gate = new Gate(false)
    const written: Array<string> = []
    const ready = () => gate.hasRoom
    // "a" settles at once when written (as a request that fails before reaching the wire).
    gate.inFlight = 1
    gate.enter(ready, () => {
      gate.inFlight++
      written.push("a")
      gate.settled()
    })
    gate.enter(ready, () => {
      gate.inFlight++
      written.push("b")
    })
    gate.settled()
    expect(written).toEqual(["a", "b"])
    expect(gate.inFlight).toBe(1)
  })
})

describe("Gate: transactions are exclusive", () => {
  it("while a level owns the connection, only its requests are written; the rest follow when it ends", () => {
    const { gate, written, submit } = harness(true)
    const tx = level(connection())
    gate.setOwner(tx)
    submit("outside")
    submit("inside", tx)
    expect(written).toEqual(["inside"])
    tx.state = "committed"
    gate.setOwner(undefined)
    expect(written).toEqual(["inside", "outside"])
  })

  it("a savepoint owns the connection: its parent's requests wait for it", () => {
    const { gate, written, submit } = harness(true)
    const conn = connection()
    const tx = level(conn)
    const sp = level(conn, tx)
    expect(sp.depth).toBe(1)
    expect(sp.savepoint).toBe("pgfx_sp_1")
    gate.setOwner(sp)
    submit("parent", tx)
    submit("savepoint", sp)
    expect(written).toEqual(["savepoint"])
    sp.state = "rolledBack"
    gate.setOwner(tx)
    expect(written).toEqual(["savepoint", "parent"])
  })
})

describe("Gate: the level a request belongs to", () => {
  it("no owner: the explicit level if still active (else its active ancestor), else none", () => {
    const conn = connection()
    const gate = new Gate(true)
    const tx = level(conn)
    const sp = level(conn, tx)
    expect(gate.levelOf(fiber(), conn, undefined)).toBeUndefined()
    expect(gate.levelOf(fiber(), conn, sp)).toBe(sp)
    sp.state = "failed"
    expect(gate.levelOf(fiber(), conn, sp)).toBe(tx)
    expect(activeFrom(sp)).toBe(tx)
  })

  it("the fiber that started a level manually belongs to it; another fiber by its Context only", () => {
    const conn = connection()
    const gate = new Gate(true)
    const starter = fiber()
    const tx = level(conn, undefined, starter)
    gate.setOwner(tx)
    expect(gate.levelOf(starter, conn, undefined)).toBe(tx)
    expect(gate.levelOf(fiber(), conn, undefined)).toBeUndefined()
    expect(gate.levelOf(fiber(tx), conn, undefined)).toBe(tx)
  })

  it("a Context level of another connection is not this connection's", () => {
    const conn = connection()
    const other = level(connection())
    expect(levelIn(Context.make(PgTransaction, other), conn)).toBeUndefined()
    const mine = level(conn)
    expect(levelIn(Context.make(PgTransaction, mine), conn)).toBe(mine)
  })

  it("inside a savepoint of the named level, a request acts at the savepoint", () => {
    const conn = connection()
    const gate = new Gate(true)
    const tx = level(conn)
    const sp = level(conn, tx)
    gate.setOwner(sp)
    expect(gate.levelOf(fiber(sp), conn, tx)).toBe(sp)
    // Named explicitly from outside the savepoint: the named level.
    expect(gate.levelOf(fiber(), conn, tx)).toBe(tx)
  })
})
