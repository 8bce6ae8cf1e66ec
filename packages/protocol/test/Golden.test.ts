import { describe, expect, it } from "@effect/vitest"
import * as Backend from "@pgfx/protocol/Backend"
import * as BackendEncoder from "@pgfx/protocol/BackendEncoder"
import * as FrontendDecoder from "@pgfx/protocol/FrontendDecoder"
import { Reader } from "@pgfx/protocol/Reader"
import { Writer } from "@pgfx/protocol/Writer"
import { backendFrames, golden, isOneByteAnswer, loadGoldens, stepOf, type GoldenFile } from "./golden/golden.ts"

type Msg = Backend.BackendMessage
const decoder = new TextDecoder()

const messagesOf = (g: GoldenFile, step: string): Array<Msg> => backendFrames(stepOf(g, step).server).map((f) => f.msg)

const tags = (ms: ReadonlyArray<Msg>): Array<string> => ms.map((m) => m._tag)

/** Narrows a message to `tag`, failing the test otherwise. */
const as = <T extends Msg["_tag"]>(m: Msg | undefined, tag: T): Msg & { readonly _tag: T } => {
  expect(m?._tag).toBe(tag)
  return m as Msg & { readonly _tag: T }
}

const only = <T extends Msg["_tag"]>(ms: ReadonlyArray<Msg>, tag: T): Array<Msg & { readonly _tag: T }> =>
  ms.filter((m): m is Msg & { readonly _tag: T } => m._tag === tag)

const field = (m: Msg, code: string): string | undefined =>
  m._tag === "ErrorResponse" || m._tag === "NoticeResponse" ? m.fields.find(([c]) => c === code)?.[1] : undefined

const cells = (m: Msg): Array<string | null> =>
  as(m, "DataRow").fields.map((f) => (f === null ? null : decoder.decode(f)))

const int32 = (b: Uint8Array | null | undefined): number => {
  if (b == null) throw new Error("NULL cell")
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getInt32(0)
}

const all = loadGoldens()
const session = golden("session-3.0")
const majorVersion = Number(session.serverVersion.split(".")[0])

describe("golden files", () => {
  it("exist with a generated header and a server version", () => {
    expect(all.map((g) => g.file)).toEqual([
      "encryption-refused.json",
      "negotiate.json",
      "session-3.0.json",
      "session-3.2-cancel.json",
    ])
    for (const g of all) {
      expect(g.generated).toBe("by scripts/capture-goldens.ts; do not edit")
      expect(g.serverVersion).toMatch(/^\d+(\.\d+)?/)
      expect(g.steps.length).toBeGreaterThan(0)
    }
  })

  for (const g of all) {
    for (const s of g.steps) {
      if (isOneByteAnswer(s)) continue
      describe(`${g.file} ${s.name}`, () => {
        it("frames into whole messages that re-encode to the same bytes", () => {
          const frames = backendFrames(s.server)
          expect(frames.length).toBeGreaterThan(0)
          for (const f of frames) expect(BackendEncoder.toBytes(f.msg)).toEqual(f.bytes)
          const w = new Writer()
          BackendEncoder.encodeAll(
            w,
            frames.map((f) => f.msg),
          )
          expect(w.finishCopy()).toEqual(s.server)
        })

        it("decodes the same when fed one byte at a time", () => {
          const whole = backendFrames(s.server).map((f) => f.msg)
          const r = new Reader()
          const got: Array<Msg> = []
          for (const b of s.server) {
            r.push(new Uint8Array([b]))
            while (r.next()) got.push(Backend.decode(r.type, r.buf, r.view, r.start, r.end))
          }
          expect(got).toEqual(whole)
        })
      })
    }
  }
})

describe("golden client streams decode with FrontendDecoder", () => {
  const clientMessages = (g: GoldenFile): Array<FrontendDecoder.ClientMessage> => {
    const r = new FrontendDecoder.FrontendReader()
    const out: Array<FrontendDecoder.ClientMessage> = []
    for (const s of g.steps) {
      r.push(s.client)
      for (let m = r.next(); m !== undefined; m = r.next()) out.push(m)
    }
    return out
  }

  it("session-3.0", () => {
    const ms = clientMessages(session)
    expect(ms[0]).toEqual({
      _tag: "StartupMessage",
      version: 196608,
      parameters: {
        user: "postgres",
        database: "postgres",
        application_name: "pgfx-golden",
        client_encoding: "UTF8",
        DateStyle: "ISO, MDY",
        TimeZone: "UTC",
      },
    })
    expect(ms.map((m) => m._tag).filter((t) => t === "Sync").length).toBe(4)
    expect(ms.filter((m) => m._tag === "CopyData").length).toBe(2)
    expect(ms).toContainEqual({ _tag: "CopyFail", message: "pgfx golden abort" })
    expect(ms).toContainEqual({ _tag: "Execute", portal: "golden_p", maxRows: 2 })
    expect(ms).toContainEqual({ _tag: "Close", kind: "S", name: "golden_s" })
    expect(ms).toContainEqual({ _tag: "Query", sql: "" })
    const fc = ms.find((m) => m._tag === "FunctionCall")
    expect(fc?._tag === "FunctionCall" && fc.args.map(int32)).toEqual([40, 2])
  })

  it("session-3.2 and encryption-refused", () => {
    const ms32 = clientMessages(golden("session-3.2-cancel"))
    expect(ms32[0]?._tag === "StartupMessage" && ms32[0].version).toBe(196610)
    const enc = clientMessages(golden("encryption-refused")).map((m) => m._tag)
    expect(enc).toEqual(["SSLRequest", "GSSENCRequest", "StartupMessage"])
  })
})

describe("golden conversation contents", () => {
  it("startup: AuthenticationOk, ParameterStatus..., BackendKeyData (4-byte key), ReadyForQuery", () => {
    const ms = messagesOf(session, "startup")
    expect(ms[0]).toEqual({ _tag: "AuthenticationOk" })
    expect(ms.at(-1)).toEqual({ _tag: "ReadyForQuery", status: "I" })
    expect(as(ms.at(-2), "BackendKeyData").secretKey.length).toBe(4)
    const params = new Map(only(ms, "ParameterStatus").map((p) => [p.name, p.value]))
    expect(params.get("client_encoding")).toBe("UTF8")
    expect(params.get("server_version")).toBe(session.serverVersion)
    expect(params.get("application_name")).toBe("pgfx-golden")
    expect(params.get("TimeZone")).toBe("UTC")
    expect(params.get("standard_conforming_strings")).toBe("on")
  })

  it("simple query with several statements", () => {
    const ms = messagesOf(session, "simple-query")
    expect(tags(ms)).toEqual([
      "CommandComplete",
      "CommandComplete",
      "RowDescription",
      "DataRow",
      "DataRow",
      "CommandComplete",
      "CommandComplete",
      "ReadyForQuery",
    ])
    const completes = only(ms, "CommandComplete").map((m) => m.tag)
    expect(completes).toEqual(["CREATE TABLE", "INSERT 0 2", "SELECT 2", "UPDATE 1"])
    expect(completes.map(Backend.rowCountOf)).toEqual([undefined, 2, 2, 1])
    const desc = as(ms[2], "RowDescription").fields
    expect(desc.map((f) => [f.name, f.typeOid, f.format, f.columnAttribute])).toEqual([
      ["a", 23, 0, 1],
      ["b", 25, 0, 2],
    ])
    expect(desc[0]!.tableOid).toBeGreaterThan(0)
    expect(cells(ms[3]!)).toEqual(["1", "one"])
    expect(cells(ms[4]!)).toEqual(["2", null])
  })

  it("extended protocol with binary parameters and results", () => {
    const ms = messagesOf(session, "extended-binary")
    expect(tags(ms)).toEqual([
      "ParseComplete",
      "ParameterDescription",
      "RowDescription",
      "BindComplete",
      "RowDescription",
      "DataRow",
      "CommandComplete",
      "ReadyForQuery",
    ])
    expect(as(ms[1], "ParameterDescription").typeOids).toEqual([23, 25])
    const statementDesc = as(ms[2], "RowDescription").fields
    const portalDesc = as(ms[4], "RowDescription").fields
    expect(statementDesc.map((f) => f.name)).toEqual(["n", "t", "z", "f", "b", "ok"])
    expect(statementDesc.map((f) => f.typeOid)).toEqual([23, 25, 20, 701, 17, 16])
    expect(statementDesc.map((f) => f.format)).toEqual([0, 0, 0, 0, 0, 0])
    expect(portalDesc.map((f) => f.format)).toEqual([1, 1, 1, 1, 1, 1])
    const row = as(ms[5], "DataRow").fields
    expect(int32(row[0])).toBe(42)
    expect(decoder.decode(row[1]!)).toBe("hé")
    expect(row[2]).toBeNull()
    expect(new DataView(row[3]!.buffer).getFloat64(0)).toBe(1.5)
    expect(row[4]).toEqual(new Uint8Array([1, 2]))
    expect(row[5]).toEqual(new Uint8Array([1]))
    expect(as(ms[6], "CommandComplete").tag).toBe("SELECT 1")
  })

  it("portal with a row limit: PortalSuspended, then CloseComplete twice", () => {
    const ms = messagesOf(session, "extended-portal")
    expect(tags(ms)).toEqual([
      "ParseComplete",
      "BindComplete",
      "DataRow",
      "DataRow",
      "PortalSuspended",
      "DataRow",
      "DataRow",
      "PortalSuspended",
      "DataRow",
      "CommandComplete",
      "CloseComplete",
      "CloseComplete",
      "ReadyForQuery",
    ])
    expect(only(ms, "DataRow").map((r) => int32(r.fields[0]))).toEqual([1, 2, 3, 4, 5])
  })

  it("NoData and a ParameterStatus after SET", () => {
    const ms = messagesOf(session, "extended-nodata")
    expect(tags(ms)).toEqual([
      "ParseComplete",
      "ParameterDescription",
      "NoData",
      "BindComplete",
      "CommandComplete",
      "ParameterStatus",
      "ReadyForQuery",
    ])
    expect(ms[5]).toEqual({ _tag: "ParameterStatus", name: "application_name", value: "pgfx-golden-2" })
  })

  it("errors: 22P02 in extended protocol, 42P01, 22012 in a transaction", () => {
    const ext = messagesOf(session, "extended-error")
    expect(tags(ext)).toEqual(["ParseComplete", "ErrorResponse", "ReadyForQuery"])
    expect(field(ext[1]!, "C")).toBe("22P02")

    const missing = messagesOf(session, "error")
    expect(tags(missing)).toEqual(["ErrorResponse", "ReadyForQuery"])
    expect(field(missing[0]!, "C")).toBe("42P01")
    expect(field(missing[0]!, "S")).toBe("ERROR")
    expect(field(missing[0]!, "V")).toBe("ERROR")
    expect(field(missing[0]!, "M")).toBe('relation "pgfx_missing_table" does not exist')
    expect(field(missing[0]!, "P")).toBe("15")

    const tx = messagesOf(session, "error-in-transaction")
    expect(tags(tx)).toEqual(["CommandComplete", "ErrorResponse", "ReadyForQuery"])
    expect(field(tx[1]!, "C")).toBe("22012")
    expect(tx[2]).toEqual({ _tag: "ReadyForQuery", status: "E" })
    expect(messagesOf(session, "rollback")).toEqual([
      { _tag: "CommandComplete", tag: "ROLLBACK" },
      { _tag: "ReadyForQuery", status: "I" },
    ])
  })

  it("notice", () => {
    const ms = messagesOf(session, "notice")
    expect(tags(ms)).toEqual(["NoticeResponse", "CommandComplete", "ReadyForQuery"])
    expect(field(ms[0]!, "S")).toBe("NOTICE")
    expect(field(ms[0]!, "C")).toBe("00000")
    expect(field(ms[0]!, "M")).toBe("hi")
  })

  it("LISTEN / NOTIFY to itself", () => {
    expect(tags(messagesOf(session, "listen"))).toEqual(["CommandComplete", "ReadyForQuery"])
    const ms = messagesOf(session, "notify")
    const n = as(
      ms.find((m) => m._tag === "NotificationResponse"),
      "NotificationResponse",
    )
    expect(n.channel).toBe("pgfx_golden")
    expect(n.payload).toBe("hello")
    const key = as(
      messagesOf(session, "startup").find((m) => m._tag === "BackendKeyData"),
      "BackendKeyData",
    )
    expect(n.processId).toBe(key.processId)
    expect(ms.at(-1)?._tag).toBe("ReadyForQuery")
  })

  it("COPY TO STDOUT, text and binary", () => {
    const text = messagesOf(session, "copy-out")
    expect(as(text[0], "CopyOutResponse")).toEqual({ _tag: "CopyOutResponse", format: 0, columnFormats: [0, 0] })
    expect(only(text, "CopyData").map((d) => decoder.decode(d.data))).toEqual([
      "1\trow 1\n",
      "2\trow 2\n",
      "3\trow 3\n",
    ])
    expect(tags(text.slice(-3))).toEqual(["CopyDone", "CommandComplete", "ReadyForQuery"])
    expect(as(text.at(-2), "CommandComplete").tag).toBe("COPY 3")

    const bin = messagesOf(session, "copy-out-binary")
    expect(as(bin[0], "CopyOutResponse").format).toBe(1)
    const first = only(bin, "CopyData")[0]!.data
    expect(decoder.decode(first.subarray(0, 6))).toBe("PGCOPY")
    expect(as(bin.at(-2), "CommandComplete").tag).toBe("COPY 2")
  })

  it("COPY FROM STDIN, completed and failed", () => {
    const ok = messagesOf(session, "copy-in")
    expect(ok).toEqual([
      { _tag: "CopyInResponse", format: 0, columnFormats: [0, 0] },
      { _tag: "CommandComplete", tag: "COPY 2" },
      { _tag: "ReadyForQuery", status: "I" },
    ])
    const failed = messagesOf(session, "copy-in-fail")
    expect(tags(failed)).toEqual(["CopyInResponse", "ErrorResponse", "ReadyForQuery"])
    expect(field(failed[1]!, "C")).toBe("57014")
    expect(field(failed[1]!, "M")).toContain("pgfx golden abort")
  })

  it("empty query and function call", () => {
    expect(messagesOf(session, "empty-query")).toEqual([
      { _tag: "EmptyQueryResponse" },
      { _tag: "ReadyForQuery", status: "I" },
    ])
    const fc = messagesOf(session, "function-call")
    expect(int32(as(fc[0], "FunctionCallResponse").result)).toBe(42)
  })

  it("protocol 3.2: long cancel key, and a cancelled query", () => {
    const g = golden("session-3.2-cancel")
    const key = as(
      messagesOf(g, "startup-3.2").find((m) => m._tag === "BackendKeyData"),
      "BackendKeyData",
    )
    expect(key.secretKey.length).toBe(majorVersion >= 18 ? 32 : 4)
    const ms = messagesOf(g, "cancel")
    const err = ms.find((m) => m._tag === "ErrorResponse")!
    expect(field(err, "C")).toBe("57014")
    expect(ms.at(-1)).toEqual({ _tag: "ReadyForQuery", status: "I" })
  })

  it("version negotiation", () => {
    const ms = messagesOf(golden("negotiate"), "negotiate")
    expect(ms[0]).toEqual({
      _tag: "NegotiateProtocolVersion",
      newestMinor: majorVersion >= 18 ? 2 : 0,
      unrecognized: ["_pq_.pgfx_unknown"],
    })
    expect(ms.at(-1)?._tag).toBe("ReadyForQuery")
  })

  it("SSLRequest and GSSENCRequest refused with 'N'", () => {
    const g = golden("encryption-refused")
    expect(stepOf(g, "ssl-request").server).toEqual(BackendEncoder.ENCRYPTION_REFUSED)
    expect(stepOf(g, "gssenc-request").server).toEqual(BackendEncoder.ENCRYPTION_REFUSED)
    const ms = messagesOf(g, "startup-after-refusal")
    expect(ms[0]).toEqual({ _tag: "AuthenticationOk" })
    expect(ms.at(-1)).toEqual({ _tag: "ReadyForQuery", status: "I" })
  })
})
