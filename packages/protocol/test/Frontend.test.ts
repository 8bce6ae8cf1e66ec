import { describe, expect, it } from "@effect/vitest"
import { ProtocolViolation } from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import * as FrontendDecoder from "@pgfx/protocol/FrontendDecoder"
import { InvalidMessageLength, MessageTooLarge } from "@pgfx/protocol/Reader"
import { MalformedString, Writer } from "@pgfx/protocol/Writer"

const bytes = (...b: Array<number>): Uint8Array => new Uint8Array(b)
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const build = Frontend.build

/** Reads every message of a typed stream that follows a StartupMessage. */
const readTyped = (stream: Uint8Array): Array<FrontendDecoder.ClientMessage> => {
  const r = new FrontendDecoder.FrontendReader()
  r.push(build((w) => Frontend.startup(w, { user: "u" })))
  expect(r.next()?._tag).toBe("StartupMessage")
  r.push(stream)
  const out: Array<FrontendDecoder.ClientMessage> = []
  for (let m = r.next(); m !== undefined; m = r.next()) out.push(m)
  return out
}

const readOne = (stream: Uint8Array): FrontendDecoder.ClientMessage => {
  const all = readTyped(stream)
  expect(all.length).toBe(1)
  return all[0]!
}

const readStartup = (stream: Uint8Array): Array<FrontendDecoder.ClientMessage> => {
  const r = new FrontendDecoder.FrontendReader()
  r.push(stream)
  const out: Array<FrontendDecoder.ClientMessage> = []
  for (let m = r.next(); m !== undefined; m = r.next()) out.push(m)
  return out
}

const caught = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  throw new Error("expected an error")
}

type Cases = {
  readonly [K in FrontendDecoder.FrontendMessage["_tag"]]: ReadonlyArray<
    readonly [(w: Writer) => unknown, Extract<FrontendDecoder.FrontendMessage, { readonly _tag: K }>]
  >
}

// Encoder call and the message it must decode to, one or more per tag (checked by the type).
const cases: Cases = {
  AuthenticationResponse: [
    [(w) => Frontend.password(w, "secret"), { _tag: "AuthenticationResponse", body: text("secret\0") }],
    [(w) => Frontend.saslResponse(w, bytes(1, 2, 3)), { _tag: "AuthenticationResponse", body: bytes(1, 2, 3) }],
  ],
  Bind: [
    [
      (w) => Frontend.bind(w, "p1", "s1", [1, 0], [bytes(0, 0, 0, 1), null, bytes()], [1]),
      {
        _tag: "Bind",
        portal: "p1",
        statement: "s1",
        paramFormats: [1, 0],
        values: [bytes(0, 0, 0, 1), null, bytes()],
        resultFormats: [1],
      },
    ],
    [
      (w) => Frontend.bind(w, "", "", [], [], []),
      { _tag: "Bind", portal: "", statement: "", paramFormats: [], values: [], resultFormats: [] },
    ],
  ],
  Close: [
    [(w) => Frontend.close(w, "S", "stmt_1"), { _tag: "Close", kind: "S", name: "stmt_1" }],
    [(w) => Frontend.close(w, "P", ""), { _tag: "Close", kind: "P", name: "" }],
  ],
  CopyData: [
    [(w) => Frontend.copyData(w, text("1\tx\n")), { _tag: "CopyData", data: text("1\tx\n") }],
    [(w) => Frontend.copyData(w, bytes()), { _tag: "CopyData", data: bytes() }],
  ],
  CopyDone: [[(w) => Frontend.copyDone(w), { _tag: "CopyDone" }]],
  CopyFail: [[(w) => Frontend.copyFail(w, "client gave up"), { _tag: "CopyFail", message: "client gave up" }]],
  Describe: [
    [(w) => Frontend.describe(w, "S", "s"), { _tag: "Describe", kind: "S", name: "s" }],
    [(w) => Frontend.describe(w, "P", ""), { _tag: "Describe", kind: "P", name: "" }],
  ],
  Execute: [
    [(w) => Frontend.execute(w, ""), { _tag: "Execute", portal: "", maxRows: 0 }],
    [(w) => Frontend.execute(w, "cur", 100), { _tag: "Execute", portal: "cur", maxRows: 100 }],
  ],
  Flush: [[(w) => Frontend.flush(w), { _tag: "Flush" }]],
  FunctionCall: [
    [
      (w) => Frontend.functionCall(w, 0xffff_0001, [1], [bytes(9), null], 1),
      { _tag: "FunctionCall", functionOid: 0xffff_0001, argFormats: [1], args: [bytes(9), null], resultFormat: 1 },
    ],
  ],
  Parse: [
    [
      (w) => Frontend.parse(w, "s1", "SELECT $1::int, $2", [23, 0, 0xffff_fff0]),
      { _tag: "Parse", name: "s1", sql: "SELECT $1::int, $2", paramTypes: [23, 0, 0xffff_fff0] },
    ],
    [(w) => Frontend.parse(w, "", "SELECT 'é'"), { _tag: "Parse", name: "", sql: "SELECT 'é'", paramTypes: [] }],
  ],
  Query: [
    [(w) => Frontend.query(w, "SELECT 1; SELECT 2"), { _tag: "Query", sql: "SELECT 1; SELECT 2" }],
    [(w) => Frontend.query(w, ""), { _tag: "Query", sql: "" }],
  ],
  Sync: [[(w) => Frontend.sync(w), { _tag: "Sync" }]],
  Terminate: [[(w) => Frontend.terminate(w), { _tag: "Terminate" }]],
}

const allCases = Object.values(cases).flat()

describe("Frontend encoders round trip through FrontendDecoder", () => {
  it("covers every typed message", () => {
    expect(Object.keys(cases).length).toBe(14)
  })

  for (const [encode, expected] of allCases) {
    it(`${expected._tag}`, () => {
      expect(readOne(build(encode))).toEqual(expected)
    })
  }

  it("a batch in one buffer decodes in order", () => {
    const w = new Writer()
    for (const [encode] of allCases) encode(w)
    expect(readTyped(w.finishCopy())).toEqual(allCases.map(([, m]) => m))
  })

  it("bindWith writes the same bytes as bind", () => {
    const values = [bytes(1, 2), null, bytes(), text("héllo")]
    const a = build((w) => Frontend.bind(w, "p", "s", [1], values, [0, 1]))
    const b = build((w) =>
      Frontend.bindWith(
        w,
        "p",
        "s",
        [1],
        values.length,
        (i) => values[i] === null,
        (w, i) => {
          w.bytes(values[i]!)
        },
        [0, 1],
      ),
    )
    expect(b).toEqual(a)
  })

  it("Parse and Bind with 65535 parameters (counts are unsigned)", () => {
    const types = Array.from({ length: 65535 }, () => 23)
    const parsed = readOne(build((w) => Frontend.parse(w, "", "x", types)))
    expect(parsed._tag === "Parse" && parsed.paramTypes.length).toBe(65535)
    const values = Array.from({ length: 65535 }, (_, i) => (i % 2 === 0 ? null : bytes(i & 0xff)))
    const bound = readOne(build((w) => Frontend.bind(w, "", "", [1], values, [])))
    expect(bound._tag === "Bind" && bound.values).toEqual(values)
  })

  it("constant frames", () => {
    expect(Frontend.SYNC).toEqual(bytes(0x53, 0, 0, 0, 4))
    expect(Frontend.FLUSH).toEqual(bytes(0x48, 0, 0, 0, 4))
    expect(Frontend.TERMINATE).toEqual(bytes(0x58, 0, 0, 0, 4))
    expect(Frontend.COPY_DONE).toEqual(bytes(0x63, 0, 0, 0, 4))
  })
})

describe("'p' message helpers", () => {
  const one = (f: (w: Writer) => unknown): FrontendDecoder.AuthenticationResponse => {
    const m = readOne(build(f))
    if (m._tag !== "AuthenticationResponse") throw new Error(m._tag)
    return m
  }

  it("passwordOf", () => {
    expect(FrontendDecoder.passwordOf(one((w) => Frontend.password(w, "md5abc")))).toBe("md5abc")
  })

  it("saslInitialResponseOf", () => {
    const data = text("n,,n=,r=nonce")
    const m = one((w) => Frontend.saslInitialResponse(w, "SCRAM-SHA-256", data))
    expect(FrontendDecoder.saslInitialResponseOf(m)).toEqual({ mechanism: "SCRAM-SHA-256", data })
    expect(
      FrontendDecoder.saslInitialResponseOf({
        _tag: "AuthenticationResponse",
        body: bytes(0x41, 0, 0xff, 0xff, 0xff, 0xff),
      }),
    ).toEqual({ mechanism: "A", data: null })
  })

  it("saslResponseOf", () => {
    const data = text("c=biws,r=nonce,p=proof")
    expect(FrontendDecoder.saslResponseOf(one((w) => Frontend.saslResponse(w, data)))).toEqual(data)
  })

  it("a body of the wrong shape is a ProtocolViolation", () => {
    const sasl = one((w) => Frontend.saslResponse(w, bytes(1, 2, 3)))
    expect(caught(() => FrontendDecoder.passwordOf(sasl))).toBeInstanceOf(ProtocolViolation)
    expect(caught(() => FrontendDecoder.saslInitialResponseOf(sasl))).toBeInstanceOf(ProtocolViolation)
    const pw = one((w) => Frontend.password(w, "pw"))
    expect(caught(() => FrontendDecoder.saslInitialResponseOf(pw))).toBeInstanceOf(ProtocolViolation)
    const twoStrings = { _tag: "AuthenticationResponse", body: text("a\0b\0") } as const
    expect(caught(() => FrontendDecoder.passwordOf(twoStrings))).toBeInstanceOf(ProtocolViolation)
  })
})

describe("startup frames", () => {
  it("StartupMessage 3.0 with parameters", () => {
    const params = { user: "alice", database: "app", application_name: "pgfx ✓", options: "-c x=1" }
    expect(readStartup(build((w) => Frontend.startup(w, params)))).toEqual([
      { _tag: "StartupMessage", version: Frontend.PROTOCOL_3_0, parameters: params },
    ])
  })

  it("StartupMessage 3.2 with _pq_ options", () => {
    const params = { user: "u", "_pq_.x": "1" }
    expect(readStartup(build((w) => Frontend.startup(w, params, Frontend.PROTOCOL_3_2)))).toEqual([
      { _tag: "StartupMessage", version: Frontend.PROTOCOL_3_2, parameters: params },
    ])
  })

  it("a __proto__ parameter stays a plain parameter", () => {
    const w = new Writer()
    w.int32(0).int32(Frontend.PROTOCOL_3_0).cstring("__proto__").cstring("x").byte(0)
    w.view.setInt32(0, w.pos)
    const [m] = readStartup(w.finishCopy())
    expect(m?._tag === "StartupMessage" && Object.getOwnPropertyDescriptor(m.parameters, "__proto__")?.value).toBe("x")
    expect(m?._tag === "StartupMessage" && Object.getPrototypeOf(m.parameters)).toBe(Object.prototype)
  })

  it("SSLRequest and GSSENCRequest precede the StartupMessage", () => {
    const w = new Writer()
    Frontend.sslRequest(w)
    Frontend.gssEncRequest(w)
    Frontend.startup(w, { user: "u" })
    Frontend.query(w, "SELECT 1")
    expect(w.finish().subarray(0, 8)).toEqual(bytes(0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f))
    expect(readStartup(w.finishCopy())).toEqual([
      { _tag: "SSLRequest" },
      { _tag: "GSSENCRequest" },
      { _tag: "StartupMessage", version: Frontend.PROTOCOL_3_0, parameters: { user: "u" } },
      { _tag: "Query", sql: "SELECT 1" },
    ])
  })

  it("CancelRequest with a 4-byte key (3.0) and a 32-byte key (3.2)", () => {
    const short = bytes(1, 2, 3, 4)
    expect(readStartup(build((w) => Frontend.cancelRequest(w, 1234, short)))).toEqual([
      { _tag: "CancelRequest", processId: 1234, secretKey: short },
    ])
    expect(build((w) => Frontend.cancelRequest(w, 1234, short)).length).toBe(16)
    const long = new Uint8Array(32).map((_, i) => i)
    expect(readStartup(build((w) => Frontend.cancelRequest(w, 99, long)))).toEqual([
      { _tag: "CancelRequest", processId: 99, secretKey: long },
    ])
  })

  it("startup frames split at every byte boundary", () => {
    const w = new Writer()
    Frontend.sslRequest(w)
    Frontend.startup(w, { user: "u", database: "d" })
    Frontend.parse(w, "", "SELECT $1", [23])
    Frontend.sync(w)
    const stream = w.finishCopy()
    const expected = readStartup(stream)
    expect(expected.map((m) => m._tag)).toEqual(["SSLRequest", "StartupMessage", "Parse", "Sync"])
    for (let cut = 1; cut < stream.length; cut++) {
      const r = new FrontendDecoder.FrontendReader()
      const out: Array<FrontendDecoder.ClientMessage> = []
      r.push(stream.subarray(0, cut))
      for (let m = r.next(); m !== undefined; m = r.next()) out.push(m)
      r.push(stream.subarray(cut))
      for (let m = r.next(); m !== undefined; m = r.next()) out.push(m)
      expect(out).toEqual(expected)
    }
    const r = new FrontendDecoder.FrontendReader()
    const out: Array<FrontendDecoder.ClientMessage> = []
    for (const b of stream) {
      r.push(bytes(b))
      for (let m = r.next(); m !== undefined; m = r.next()) out.push(m)
    }
    expect(out).toEqual(expected)
  })

  it("decodeStartup rejects bad packets", () => {
    const pv = (b: Uint8Array) =>
      expect(caught(() => FrontendDecoder.decodeStartup(b))).toBeInstanceOf(ProtocolViolation)
    pv(bytes(0, 0, 0, 9, 0x04, 0xd2, 0x16, 0x2f)) // length mismatch
    pv(bytes(0, 0, 0, 9, 0x04, 0xd2, 0x16, 0x2f, 0)) // SSLRequest with trailing byte
    pv(bytes(0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x99)) // unknown 1234.x code
    pv(bytes(0, 0, 0, 14, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 1, 2, 3)) // 2-byte cancel key
    pv(bytes(0, 0, 0, 10, 0, 3, 0, 0, 0x75, 0)) // name without value and no terminator
    pv(bytes(0, 0, 0, 11, 0, 3, 0, 0, 0x75, 0, 0x76)) // unterminated value
  })

  it("FrontendReader: length below 8 and over the startup limit", () => {
    const r1 = new FrontendDecoder.FrontendReader()
    r1.push(bytes(0, 0, 0, 7, 0, 0, 0))
    expect(caught(() => r1.next())).toBeInstanceOf(InvalidMessageLength)
    const r2 = new FrontendDecoder.FrontendReader()
    r2.push(bytes(0, 0, 0x27, 0x11))
    const e = caught(() => r2.next())
    expect(e).toBeInstanceOf(MessageTooLarge)
    expect((e as MessageTooLarge).size).toBe(10001)
  })

  it("FrontendReader: typed message limit comes from maxMessageSize", () => {
    const r = new FrontendDecoder.FrontendReader({ maxMessageSize: 16 })
    r.push(build((w) => Frontend.startup(w, { user: "u" })))
    r.next()
    r.push(build((w) => Frontend.query(w, "SELECT 'a long statement'")))
    expect(caught(() => r.next())).toBeInstanceOf(MessageTooLarge)
  })
})

describe("FrontendDecoder malformed typed messages", () => {
  const typed = (type: number, ...body: Array<number>): Uint8Array => {
    const w = new Writer(16)
    w.byte(type)
      .int32(body.length + 4)
      .bytes(new Uint8Array(body))
    return w.finishCopy()
  }
  const pv = (b: Uint8Array) => expect(caught(() => readTyped(b))).toBeInstanceOf(ProtocolViolation)

  it("unknown type", () => pv(typed(0x7a)))
  it("bad Describe / Close kind", () => {
    pv(typed(0x44, 0x58, 0))
    pv(typed(0x43, 0x58, 0))
  })
  it("trailing bytes", () => {
    pv(typed(0x53, 0))
    pv(typed(0x45, 0, 0, 0, 0, 0, 1))
    pv(typed(0x51, 0x41, 0, 0x42))
  })
  it("truncated Bind value", () => pv(typed(0x42, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5, 1)))
  it("Bind value length below -1", () => pv(typed(0x42, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 0)))
  it("unterminated Query", () => pv(typed(0x51, 0x41)))
})

describe("Writer strings", () => {
  it("writes UTF-8 the same way on the short ASCII path and the TextEncoder path", () => {
    const samples = [
      "",
      "pgfx_s1",
      "x".repeat(32),
      "x".repeat(33),
      "abcé",
      "é",
      "ascii then ü in the middle",
      "日本語",
      "a😀b",
      "\u007f\u0080",
      "long ".repeat(20) + "ü",
    ]
    for (const s of samples) {
      const w = new Writer(4)
      w.byte(0x41).cstring(s).string(s)
      expect(w.finishCopy()).toEqual(new Uint8Array([0x41, ...text(s), 0, ...text(s)]))
    }
  })
})

describe("Writer.string refuses what UTF-8 cannot carry", () => {
  const attempt = (s: string): unknown => {
    try {
      new Writer().string(s)
    } catch (e) {
      return e
    }
    return undefined
  }

  it("a lone surrogate is a MalformedString naming its index, short or long", () => {
    for (const [s, index] of [
      ["a\ud800b", 1],
      ["\udc00", 0],
      ["ok \ud83d\ude00 then \ud83d", 11],
      ["x".repeat(100) + "\udfff", 100],
    ] as const) {
      const e = attempt(s)
      expect(e).toBeInstanceOf(MalformedString)
      expect((e as MalformedString).index).toBe(index)
      expect((e as MalformedString).message).toContain("lone surrogate")
    }
  })

  it("well-formed text, surrogate pairs included, is written as UTF-8", () => {
    for (const s of ["", "abc", "\ufeffabc", "\ud83d\ude00", "é".repeat(50), "x".repeat(40)]) {
      const w = new Writer()
      w.string(s)
      expect(Buffer.from(w.finish()).toString("utf8")).toBe(s)
    }
  })
})
