/**
 * The session core (internal/Session.ts) over a fake socket, without a server: how the server's
 * messages are dispatched (each to the request at the head of the queue, in order, across chunk
 * boundaries; ParameterStatus, notices and notifications to the session and its listeners, never
 * to a request), what it writes (requests sent while a chunk is dispatched, or in one tick, go out in one
 * write; an unhurried one waits for the promise jobs the chunk started; held-back requests wait for the
 * release or are withdrawn), and how it ends (a FATAL outside any
 * request explains the close; an unexpected message or a refused setting poisons it; every queued
 * request fails, typed, saying whether the server may have read it).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Backend from "@pgfx/protocol/Backend"
import * as BackendEncoder from "@pgfx/protocol/BackendEncoder"
import * as Frontend from "@pgfx/protocol/Frontend"
import { PgConnectionError, PgProtocolError } from "../src/PgError.ts"
import { type Handler, type Notification, Session, type SessionError } from "../src/internal/wire/Session.ts"
import { FakeSocket } from "./support/FakeSocket.ts"

/** A request that records the message types of its cycle and ends at ReadyForQuery. */
class Recorder implements Handler {
  readonly types: Array<string> = []
  failure: SessionError | undefined = undefined
  done = false
  readonly onDone: (() => void) | undefined
  constructor(onDone?: () => void) {
    this.onDone = onDone
  }
  onMessage(type: number): boolean {
    this.types.push(String.fromCharCode(type))
    if (type !== Backend.Type.ReadyForQuery) return false
    this.done = true
    this.onDone?.()
    return true
  }
  onFailure(error: SessionError): void {
    this.failure = error
  }
}

const ready = (status: Backend.TransactionStatus = "I"): Backend.BackendMessage => ({ _tag: "ReadyForQuery", status })
const complete = (tag: string): Backend.BackendMessage => ({ _tag: "CommandComplete", tag })
const fatal: Backend.BackendMessage = {
  _tag: "ErrorResponse",
  fields: [
    ["S", "FATAL"],
    ["V", "FATAL"],
    ["C", "57P01"],
    ["M", "terminating connection due to administrator command"],
  ],
}

const setup = () => {
  const socket = new FakeSocket()
  const session = new Session(socket.asSocket)
  const receive = (...messages: ReadonlyArray<Backend.BackendMessage>) =>
    socket.emit("data", Buffer.from(BackendEncoder.toBytes(...messages)))
  return { socket, session, receive }
}

const query = (sql: string) => Frontend.build((w) => Frontend.query(w, sql))

/** Resolves after the current tick (its microtasks and `process.nextTick` callbacks) has ended. */
const endOfTick = () => new Promise<void>((resolve) => setImmediate(resolve))

describe("Session: dispatch", () => {
  it("each request receives the messages of its own cycle, in queue order", () => {
    const { session, receive } = setup()
    const a = new Recorder()
    const b = new Recorder()
    session.send(a, query("SELECT 1"))
    session.send(b, query("SELECT 2"))
    expect(session.pending).toBe(2)
    receive(complete("SELECT 1"), ready(), complete("SELECT 1"))
    expect(a.types).toEqual(["C", "Z"])
    expect(b.types).toEqual(["C"])
    expect(session.current).toBe(b)
    receive(ready("T"))
    expect(b.types).toEqual(["C", "Z"])
    expect(session.pending).toBe(0)
    expect(session.transactionStatus).toBe("T")
    expect(session.commandCount).toBe(2)
  })

  it("a message split across chunks is delivered once, whole", () => {
    const { socket, session } = setup()
    const a = new Recorder()
    session.send(a, query("SELECT 1"))
    const bytes = BackendEncoder.toBytes(complete("SELECT 1"), ready())
    for (const byte of bytes) socket.emit("data", Buffer.from([byte]))
    expect(a.types).toEqual(["C", "Z"])
  })

  it("ParameterStatus, notices and notifications go to the session and its listeners, not to the request", () => {
    const { session, receive } = setup()
    const notices: Array<string | undefined> = []
    const notifications: Array<Notification> = []
    session.noticeListeners.add((fields) => notices.push(fields.find(([k]) => k === "M")?.[1]))
    session.notificationListeners.add((n) => notifications.push(n))
    const a = new Recorder()
    session.send(a, query("SELECT 1"))
    receive(
      { _tag: "NoticeResponse", fields: [["M", "hello"]] },
      { _tag: "ParameterStatus", name: "application_name", value: "app" },
      { _tag: "NotificationResponse", processId: 7, channel: "ch", payload: "p" },
      complete("SELECT 1"),
      ready(),
    )
    expect(a.types).toEqual(["C", "Z"])
    expect(notices).toEqual(["hello"])
    expect(notifications).toEqual([{ _tag: "NotificationResponse", processId: 7, channel: "ch", payload: "p" }])
    expect(session.parameters.get("application_name")).toBe("app")
    // Between requests too.
    receive({ _tag: "NotificationResponse", processId: 7, channel: "ch", payload: "q" })
    expect(notifications).toHaveLength(2)
    expect(session.closed).toBe(false)
  })

  it("advance listeners hear each end of a cycle", () => {
    const { session, receive } = setup()
    let advanced = 0
    session.advanceListeners.add(() => advanced++)
    session.send(new Recorder(), query("SELECT 1"))
    session.send(new Recorder(), query("SELECT 2"))
    receive(complete("SELECT 1"), ready(), complete("SELECT 1"), ready())
    expect(advanced).toBe(2)
  })
})

describe("Session: writes", () => {
  it("outside dispatch a request is written at the end of the tick, as it is", async () => {
    const { socket, session } = setup()
    session.send(new Recorder(), query("SELECT 1"))
    expect(socket.writes).toEqual([])
    await endOfTick()
    expect(socket.writes).toEqual([query("SELECT 1")])
  })

  it("requests sent in one tick, in later microtasks too (promise callers), go out in one write", async () => {
    const { socket, session } = setup()
    session.send(new Recorder(), query("SELECT 1"))
    void Promise.resolve()
      .then(() => session.send(new Recorder(), query("SELECT 2")))
      .then(() => Promise.resolve())
      .then(() => session.send(new Recorder(), query("SELECT 3")))
    await endOfTick()
    expect(socket.writes).toHaveLength(1)
    expect(Buffer.from(socket.writes[0]!)).toEqual(
      Buffer.concat([query("SELECT 1"), query("SELECT 2"), query("SELECT 3")]),
    )
    session.send(new Recorder(), query("SELECT 4"))
    await endOfTick()
    expect(socket.writes).toEqual([socket.writes[0], query("SELECT 4")])
  })

  it("bytes written outside any request go out after the requests queued before them", () => {
    const { socket, session } = setup()
    session.send(new Recorder(), query("SELECT 1"))
    session.write(Frontend.build((w) => Frontend.copyDone(w)))
    expect(socket.writes).toEqual([query("SELECT 1"), Frontend.build((w) => Frontend.copyDone(w))])
  })

  it("requests sent while a chunk is dispatched go out together in one write when it is done", async () => {
    const { socket, session, receive } = setup()
    const first = new Recorder(() => {
      session.send(new Recorder(), query("SELECT 2"))
      session.send(new Recorder(), query("SELECT 3"))
      expect(socket.writes).toHaveLength(1)
    })
    session.send(first, query("SELECT 1"))
    await endOfTick()
    receive(complete("SELECT 1"), ready())
    expect(socket.writes).toHaveLength(2)
    expect(Buffer.from(socket.writes[1]!)).toEqual(Buffer.concat([query("SELECT 2"), query("SELECT 3")]))
  })

  it("an unhurried request sent while a chunk is dispatched shares the write of the promise jobs the chunk started", async () => {
    const { socket, session, receive } = setup()
    const first = new Recorder(() => {
      // The pool's reset, as the borrower releases the connection ...
      session.send(new Recorder(), query("RESET ALL"), true)
      // ... and the next borrower, resumed through a promise a few jobs later (one runPromise per call).
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => session.send(new Recorder(), query("SELECT 2")))
    })
    session.send(first, query("SELECT 1"))
    await endOfTick()
    receive(complete("SELECT 1"), ready())
    expect(socket.writes).toHaveLength(1)
    await endOfTick()
    expect(socket.writes).toHaveLength(2)
    expect(Buffer.from(socket.writes[1]!)).toEqual(Buffer.concat([query("RESET ALL"), query("SELECT 2")]))
  })

  it("held-back requests are queued in order, written on release, and can be withdrawn until then", async () => {
    const { socket, session } = setup()
    session.send(new Recorder(), query("SELECT 1"))
    await endOfTick()
    session.hold()
    const second = new Recorder()
    const third = new Recorder()
    session.send(second, query("SELECT 2"))
    session.send(third, query("SELECT 3"))
    expect(session.pending).toBe(3)
    expect(session.written).toBe(1)
    expect(session.withdraw(second)).toBe(true)
    expect(session.withdraw(second)).toBe(false)
    session.release()
    expect(session.written).toBe(2)
    await endOfTick()
    expect(socket.writes).toEqual([query("SELECT 1"), query("SELECT 3")])
  })
})

describe("Session: the end", () => {
  it("a FATAL outside any request is kept, and explains the close; nothing queued after it was read", () => {
    const { socket, session, receive } = setup()
    receive(fatal)
    expect(session.closed).toBe(false)
    expect(session.fatal?.code).toBe("57P01")
    const late = new Recorder()
    session.send(late, query("SELECT 1"))
    socket.emit("close")
    expect(session.closed).toBe(true)
    expect(late.failure).toBeInstanceOf(PgConnectionError)
    expect(late.failure).toMatchObject({ reason: "ClosedByServer", sent: false })
    expect(late.failure?.message).toContain("57P01")
  })

  it("a message with no request in flight poisons the session: PgProtocolError, socket destroyed", () => {
    const { socket, session, receive } = setup()
    const closes: Array<SessionError | undefined> = []
    session.closeListeners.add((e) => closes.push(e))
    receive(complete("SELECT 1"))
    expect(session.closed).toBe(true)
    expect(socket.destroyed).toBe(true)
    expect(session.closeError).toBeInstanceOf(PgProtocolError)
    expect(closes).toEqual([session.closeError])
  })

  it("a DateStyle pgfx cannot read closes the session (values would be misread)", () => {
    const { session, receive } = setup()
    const a = new Recorder()
    session.send(a, query("SET DateStyle = 'German'"))
    receive({ _tag: "ParameterStatus", name: "DateStyle", value: "German, DMY" })
    expect(session.closed).toBe(true)
    expect(a.failure).toBeInstanceOf(PgProtocolError)
    expect(a.failure?.message).toContain("DateStyle")
  })

  it("destroy fails every request: written ones may have been read, held ones were not sent", async () => {
    const { session } = setup()
    const written = new Recorder()
    session.send(written, query("SELECT 1"))
    await endOfTick()
    session.hold()
    const held = new Recorder()
    session.send(held, query("SELECT 2"))
    session.destroy(new PgConnectionError({ reason: "SocketError", message: "boom" }))
    expect(written.failure).toMatchObject({ reason: "SocketError" })
    expect((written.failure as PgConnectionError).sent).not.toBe(false)
    expect(held.failure).toMatchObject({ reason: "SocketError", sent: false })
    const after = new Recorder()
    session.send(after, query("SELECT 3"))
    expect(after.failure).toMatchObject({ reason: "SocketError", sent: false })
    expect(session.pending).toBe(0)
  })

  it("a request still in the write queue when the session dies was not sent", async () => {
    const { socket, session } = setup()
    const written = new Recorder()
    session.send(written, query("SELECT 1"))
    await endOfTick()
    const queued = new Recorder()
    session.send(queued, query("SELECT 2"))
    session.destroy(new PgConnectionError({ reason: "SocketError", message: "boom" }))
    expect((written.failure as PgConnectionError).sent).not.toBe(false)
    expect(queued.failure).toMatchObject({ reason: "SocketError", sent: false })
    await endOfTick()
    expect(socket.writes).toEqual([query("SELECT 1")])
  })

  it("terminate writes what was queued, then Terminate, and fails the requests still waiting", () => {
    const { socket, session } = setup()
    const a = new Recorder()
    session.send(a, query("SELECT 1"))
    session.terminate()
    expect(socket.writes).toEqual([query("SELECT 1")])
    expect(socket.ended).toEqual(Frontend.TERMINATE)
    expect(socket.destroyed).toBe(false)
    expect(session.closed).toBe(true)
    expect(a.failure).toMatchObject({ reason: "Closed" })
    session.terminate()
  })
})
