import { describe, expect, it } from "@effect/vitest"
import * as Backend from "@pgfx/protocol/Backend"
import * as BackendEncoder from "@pgfx/protocol/BackendEncoder"
import { Reader } from "@pgfx/protocol/Reader"
import { Writer } from "@pgfx/protocol/Writer"

type Samples = {
  readonly [K in Backend.BackendMessage["_tag"]]: ReadonlyArray<Backend.BackendMessage & { readonly _tag: K }>
}

const bytes = (...b: Array<number>): Uint8Array => new Uint8Array(b)
const text = (s: string): Uint8Array => new TextEncoder().encode(s)

// One entry per tag (checked by the type), so a new message cannot be left out.
const samples: Samples = {
  AuthenticationOk: [{ _tag: "AuthenticationOk" }],
  AuthenticationKerberosV5: [{ _tag: "AuthenticationKerberosV5" }],
  AuthenticationCleartextPassword: [{ _tag: "AuthenticationCleartextPassword" }],
  AuthenticationMD5Password: [{ _tag: "AuthenticationMD5Password", salt: bytes(1, 2, 3, 250) }],
  AuthenticationGSS: [{ _tag: "AuthenticationGSS" }],
  AuthenticationGSSContinue: [
    { _tag: "AuthenticationGSSContinue", data: bytes(0, 1, 2) },
    { _tag: "AuthenticationGSSContinue", data: bytes() },
  ],
  AuthenticationSSPI: [{ _tag: "AuthenticationSSPI" }],
  AuthenticationSASL: [
    { _tag: "AuthenticationSASL", mechanisms: ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"] },
    { _tag: "AuthenticationSASL", mechanisms: [] },
  ],
  AuthenticationSASLContinue: [{ _tag: "AuthenticationSASLContinue", data: text("r=abc,s=c2FsdA==,i=4096") }],
  AuthenticationSASLFinal: [{ _tag: "AuthenticationSASLFinal", data: text("v=c2lnbmF0dXJl") }],
  BackendKeyData: [
    { _tag: "BackendKeyData", processId: 4242, secretKey: bytes(0xde, 0xad, 0xbe, 0xef) },
    { _tag: "BackendKeyData", processId: -1, secretKey: new Uint8Array(32).fill(7) },
    { _tag: "BackendKeyData", processId: 1, secretKey: new Uint8Array(256).fill(255) },
  ],
  BindComplete: [{ _tag: "BindComplete" }],
  CloseComplete: [{ _tag: "CloseComplete" }],
  CommandComplete: [
    { _tag: "CommandComplete", tag: "INSERT 0 3" },
    { _tag: "CommandComplete", tag: "" },
  ],
  CopyData: [
    { _tag: "CopyData", data: text("1\tone\n") },
    { _tag: "CopyData", data: bytes() },
  ],
  CopyDone: [{ _tag: "CopyDone" }],
  CopyInResponse: [{ _tag: "CopyInResponse", format: 0, columnFormats: [0, 0] }],
  CopyOutResponse: [{ _tag: "CopyOutResponse", format: 1, columnFormats: [1, 1, 1] }],
  CopyBothResponse: [{ _tag: "CopyBothResponse", format: 0, columnFormats: [] }],
  DataRow: [
    { _tag: "DataRow", fields: [text("1"), null, bytes(), bytes(0, 0, 0, 42)] },
    { _tag: "DataRow", fields: [] },
  ],
  EmptyQueryResponse: [{ _tag: "EmptyQueryResponse" }],
  ErrorResponse: [
    {
      _tag: "ErrorResponse",
      fields: [
        ["S", "ERROR"],
        ["V", "ERROR"],
        ["C", "42P01"],
        ["M", 'relation "nope" does not exist'],
        ["P", "15"],
      ],
    },
    { _tag: "ErrorResponse", fields: [] },
  ],
  FunctionCallResponse: [
    { _tag: "FunctionCallResponse", result: bytes(1, 2) },
    { _tag: "FunctionCallResponse", result: null },
    { _tag: "FunctionCallResponse", result: bytes() },
  ],
  NegotiateProtocolVersion: [
    { _tag: "NegotiateProtocolVersion", newestMinor: 0, unrecognized: ["_pq_.foo", "_pq_.bar"] },
    { _tag: "NegotiateProtocolVersion", newestMinor: 2, unrecognized: [] },
  ],
  NoData: [{ _tag: "NoData" }],
  NoticeResponse: [
    {
      _tag: "NoticeResponse",
      fields: [
        ["S", "NOTICE"],
        ["C", "00000"],
        ["M", "hi ✓"],
      ],
    },
  ],
  NotificationResponse: [
    { _tag: "NotificationResponse", processId: 77, channel: "chan", payload: "päyload" },
    { _tag: "NotificationResponse", processId: 77, channel: "c", payload: "" },
  ],
  ParameterDescription: [
    { _tag: "ParameterDescription", typeOids: [23, 25, 0xffff_fffe] },
    { _tag: "ParameterDescription", typeOids: [] },
    { _tag: "ParameterDescription", typeOids: Array.from({ length: 65535 }, (_, i) => i) },
  ],
  ParameterStatus: [
    { _tag: "ParameterStatus", name: "server_version", value: "18.0" },
    { _tag: "ParameterStatus", name: "application_name", value: "" },
  ],
  ParseComplete: [{ _tag: "ParseComplete" }],
  PortalSuspended: [{ _tag: "PortalSuspended" }],
  ReadyForQuery: [
    { _tag: "ReadyForQuery", status: "I" },
    { _tag: "ReadyForQuery", status: "T" },
    { _tag: "ReadyForQuery", status: "E" },
  ],
  RowDescription: [
    {
      _tag: "RowDescription",
      fields: [
        {
          name: "id",
          tableOid: 16384,
          columnAttribute: 1,
          typeOid: 23,
          typeSize: 4,
          typeModifier: -1,
          format: 1,
        },
        {
          name: "naïve",
          tableOid: 0xffff_ffff,
          columnAttribute: 0,
          typeOid: 1043,
          typeSize: -1,
          typeModifier: 68,
          format: 0,
        },
      ],
    },
    { _tag: "RowDescription", fields: [] },
  ],
}

const allSamples: ReadonlyArray<Backend.BackendMessage> = Object.values(samples).flat()

const decodeAll = (stream: Uint8Array): Array<Backend.BackendMessage> => {
  const r = new Reader()
  r.push(stream)
  const out: Array<Backend.BackendMessage> = []
  while (r.next()) out.push(Backend.decode(r.type, r.buf, r.view, r.start, r.end))
  expect(r.buffered).toBe(0)
  return out
}

/** A frame from a type byte and a body, with a correct length. */
const frame = (type: number, ...body: Array<number>): Uint8Array => {
  const w = new Writer(16)
  w.byte(type)
    .int32(body.length + 4)
    .bytes(new Uint8Array(body))
  return w.finishCopy()
}

const decodeFrame = (f: Uint8Array): Backend.BackendMessage => {
  const r = new Reader()
  r.push(f)
  expect(r.next()).toBe(true)
  return Backend.decode(r.type, r.buf, r.view, r.start, r.end)
}

const violation = (f: Uint8Array): Backend.ProtocolViolation => {
  try {
    decodeFrame(f)
  } catch (e) {
    expect(e).toBeInstanceOf(Backend.ProtocolViolation)
    return e as Backend.ProtocolViolation
  }
  throw new Error("expected a ProtocolViolation")
}

describe("Backend round trip", () => {
  it("covers every tag", () => {
    expect(Object.keys(samples).length).toBe(33)
  })

  for (const msg of allSamples) {
    const label = msg._tag === "ParameterDescription" ? `${msg._tag}(${msg.typeOids.length})` : msg._tag
    it(`encode then decode: ${label}`, () => {
      const bytes = BackendEncoder.toBytes(msg)
      expect(decodeAll(bytes)).toEqual([msg])
    })
  }

  it("a stream of every message decodes in order", () => {
    const w = new Writer()
    BackendEncoder.encodeAll(w, allSamples)
    expect(decodeAll(w.finishCopy())).toEqual(allSamples)
  })

  it("re-encoding a decoded message gives the same bytes", () => {
    for (const msg of allSamples) {
      const once = BackendEncoder.toBytes(msg)
      const twice = BackendEncoder.toBytes(decodeFrame(once))
      expect(twice).toEqual(once)
    }
  })
})

describe("Backend exact bytes", () => {
  it("ReadyForQuery, AuthenticationOk, ParseComplete", () => {
    expect(BackendEncoder.toBytes({ _tag: "ReadyForQuery", status: "I" })).toEqual(bytes(0x5a, 0, 0, 0, 5, 0x49))
    expect(BackendEncoder.toBytes({ _tag: "AuthenticationOk" })).toEqual(bytes(0x52, 0, 0, 0, 8, 0, 0, 0, 0))
    expect(BackendEncoder.toBytes({ _tag: "ParseComplete" })).toEqual(bytes(0x31, 0, 0, 0, 4))
  })

  it("NegotiateProtocolVersion carries the full version number (3.2 = 196610)", () => {
    const b = BackendEncoder.toBytes({ _tag: "NegotiateProtocolVersion", newestMinor: 2, unrecognized: [] })
    expect(b).toEqual(bytes(0x76, 0, 0, 0, 12, 0, 3, 0, 2, 0, 0, 0, 0))
    expect(decodeFrame(b)).toEqual({ _tag: "NegotiateProtocolVersion", newestMinor: 2, unrecognized: [] })
  })

  it("AuthenticationSASL lists mechanisms and ends with an empty one", () => {
    expect(BackendEncoder.toBytes({ _tag: "AuthenticationSASL", mechanisms: ["A"] })).toEqual(
      bytes(0x52, 0, 0, 0, 11, 0, 0, 0, 10, 0x41, 0, 0),
    )
  })

  it("DataRow NULL is length -1", () => {
    expect(BackendEncoder.toBytes({ _tag: "DataRow", fields: [null] })).toEqual(
      bytes(0x44, 0, 0, 0, 10, 0, 1, 0xff, 0xff, 0xff, 0xff),
    )
  })

  it("ParameterDescription whose 16-bit count wrapped (more than 65,535 parameters) keeps every OID", () => {
    // The server writes the count in 16 bits: 65,537 parameters announce 1, the body holds them all.
    const w = new Writer()
    w.byte(0x74)
      .int32(4 + 2 + 4 * 65537)
      .int16(1)
    for (let i = 0; i < 65537; i++) w.uint32(23)
    const msg = decodeFrame(w.finishCopy())
    expect(msg._tag === "ParameterDescription" && msg.typeOids.length).toBe(65537)
    // a count that does not match the body is still a violation
    violation(frame(0x74, 0, 2, 0, 0, 0, 23))
  })

  it("SSL and GSSENC answers are single bytes", () => {
    const w = new Writer(8)
    BackendEncoder.sslResponse(w, true)
    BackendEncoder.sslResponse(w, false)
    BackendEncoder.gssEncResponse(w, true)
    BackendEncoder.gssEncResponse(w, false)
    expect(w.finishCopy()).toEqual(bytes(0x53, 0x4e, 0x47, 0x4e))
    expect(BackendEncoder.SSL_ACCEPTED).toEqual(bytes(0x53))
    expect(BackendEncoder.ENCRYPTION_REFUSED).toEqual(bytes(0x4e))
    expect(BackendEncoder.GSSENC_ACCEPTED).toEqual(bytes(0x47))
  })
})

describe("Backend malformed bodies raise ProtocolViolation", () => {
  it("unknown message type", () => {
    expect(violation(frame(0x21)).messageType).toBe("!")
  })
  it("trailing bytes after a fixed body", () => {
    violation(frame(0x31, 0))
    violation(frame(0x5a, 0x49, 0))
    violation(frame(0x52, 0, 0, 0, 0, 1))
  })
  it("bad transaction status", () => {
    violation(frame(0x5a, 0x58))
  })
  it("bad secret key length", () => {
    violation(frame(0x4b, 0, 0, 0, 1, 1, 2))
    violation(frame(0x4b, 0, 0, 0, 1, ...new Uint8Array(257)))
  })
  it("truncated DataRow cell", () => {
    violation(frame(0x44, 0, 1, 0, 0, 0, 9, 1, 2))
  })
  it("DataRow with negative field count", () => {
    violation(frame(0x44, 0xff, 0xff))
  })
  it("DataRow field length below -1 (only -1 means NULL)", () => {
    for (const len of [-2, -100, -2147483648]) {
      const b = new Uint8Array(4)
      new DataView(b.buffer).setInt32(0, len)
      expect(violation(frame(0x44, 0, 1, ...b)).message).toContain(`invalid field length ${len}`)
    }
  })
  it("unterminated string", () => {
    violation(frame(0x43, 0x41, 0x42))
  })
  it("a string terminator beyond the frame is not used", () => {
    // CommandComplete "AB" without NUL, followed by a frame that contains a 0.
    const w = new Writer()
    w.bytes(frame(0x43, 0x41, 0x42)).bytes(frame(0x5a, 0x49))
    const r = new Reader()
    r.push(w.finishCopy())
    expect(r.next()).toBe(true)
    expect(() => Backend.decode(r.type, r.buf, r.view, r.start, r.end)).toThrow(Backend.ProtocolViolation)
  })
  it("unknown authentication request", () => {
    violation(frame(0x52, 0, 0, 0, 99))
  })
  it("truncated MD5 salt", () => {
    violation(frame(0x52, 0, 0, 0, 5, 1, 2))
  })
  it("missing ErrorResponse terminator", () => {
    violation(frame(0x45, 0x53, 0x45, 0x52, 0x52, 0))
  })
  it("NegotiateProtocolVersion with negative count", () => {
    violation(frame(0x76, 0, 3, 0, 0, 0xff, 0xff, 0xff, 0xff))
  })
  it("NegotiateProtocolVersion carrying a major version other than 3", () => {
    violation(frame(0x76, 0, 0, 0, 2, 0, 0, 0, 0))
  })
  it("empty body where a value is required", () => {
    for (const t of [0x52, 0x4b, 0x43, 0x47, 0x44, 0x56, 0x76, 0x41, 0x74, 0x53, 0x5a, 0x54]) {
      violation(frame(t))
    }
  })
})

describe("rowCountOf", () => {
  const cases: ReadonlyArray<readonly [string, number | undefined]> = [
    ["INSERT 0 3", 3],
    ["INSERT 0 0", 0],
    ["SELECT 5", 5],
    ["UPDATE 10", 10],
    ["DELETE 1", 1],
    ["MERGE 2", 2],
    ["COPY 100", 100],
    ["FETCH 7", 7],
    ["MOVE 0", 0],
    ["SELECT 4294967296", 4294967296],
    ["BEGIN", undefined],
    ["CREATE TABLE", undefined],
    ["", undefined],
    ["SELECT ", undefined],
    ["SELECT 0x1f", undefined],
    ["SELECT 1e3", undefined],
    ["SELECT -1", undefined],
  ]
  for (const [tag, n] of cases) {
    it(`${JSON.stringify(tag)} -> ${n}`, () => {
      expect(Backend.rowCountOf(tag)).toBe(n)
    })
  }
})

describe("ErrorResponse and NoticeResponse fields are cut to MAX_FIELD_BYTES", () => {
  const decodeFrame = (bytes: Uint8Array) => {
    const r = new Reader()
    r.push(bytes)
    expect(r.next()).toBe(true)
    return { r, msg: Backend.decode(r.type, r.buf, r.view, r.start, r.end) }
  }

  it("a long field keeps its first 8 KiB, never splitting a character, and is marked", () => {
    const long = "é".repeat(20_000) // 2 bytes each
    const { msg } = decodeFrame(
      BackendEncoder.toBytes({
        _tag: "ErrorResponse",
        fields: [
          ["S", "ERROR"],
          ["M", long],
          ["H", "hint"],
        ],
      }),
    )
    expect(msg._tag).toBe("ErrorResponse")
    const fields = (msg as { fields: ReadonlyArray<readonly [string, string]> }).fields
    expect(fields[1]![1]).toBe("é".repeat(Backend.MAX_FIELD_BYTES / 2) + Backend.TRUNCATED_MARK)
    expect(fields[2]).toEqual(["H", "hint"])
    // A field of exactly the limit is kept whole.
    const exact = "x".repeat(Backend.MAX_FIELD_BYTES)
    const notice = decodeFrame(BackendEncoder.toBytes({ _tag: "NoticeResponse", fields: [["M", exact]] })).msg
    expect(notice).toEqual({ _tag: "NoticeResponse", fields: [["M", exact]] })
  })

  it("decodeFieldsHead reads the complete fields of a cut body and marks the one cut off", () => {
    const bytes = BackendEncoder.toBytes({
      _tag: "ErrorResponse",
      fields: [
        ["S", "ERROR"],
        ["C", "P0001"],
        ["M", "abcdef"],
      ],
    })
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    // Cut inside "abcdef": S, C complete; M cut after "abc".
    const cut = bytes.indexOf(0x61) + 3
    expect(Backend.decodeFieldsHead(bytes, view, 5, cut, 0x45)).toEqual([
      ["S", "ERROR"],
      ["C", "P0001"],
      ["M", "abc" + Backend.TRUNCATED_MARK],
    ])
    // The strict decoder still refuses an unterminated field.
    expect(() => Backend.decode(0x45, bytes, view, 5, cut)).toThrow(Backend.ProtocolViolation)
  })
})
