/**
 * Captures golden byte streams from a real PostgreSQL server for `@pgfx/protocol`'s tests.
 *
 * It speaks the protocol over a raw `node:net` socket using only `@pgfx/protocol`'s encoders and
 * reader, runs a fixed conversation (startup, simple and extended queries, errors, notices,
 * LISTEN/NOTIFY, COPY both ways, an empty query, a function call, protocol 3.2 with a cancel,
 * version negotiation, refused SSL/GSS encryption) and writes, per step, the client bytes and
 * the raw server bytes as hex into `packages/protocol/test/golden/*.json`.
 *
 * The server must accept the user with trust authentication. Target, in order of preference:
 *   node scripts/capture-goldens.ts            (starts a TempCluster itself)
 *   node scripts/capture-goldens.ts --host 127.0.0.1 --port 5432 --user postgres --database postgres
 *   PGFX_TEST_URL=postgres://postgres@127.0.0.1:5432/postgres node scripts/capture-goldens.ts
 *
 * Nondeterministic values (backend process ids and secret keys, the notifying process id, the
 * server version and settings reported in ParameterStatus) are stored as captured; the tests do
 * not depend on them.
 */
import * as TempCluster from "@pgfx/testing/TempCluster"
import { Effect, Exit, Scope } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import * as Frontend from "@pgfx/protocol/Frontend"
import { build, concat, exchange, type Frame, hex, RawConn, type Step, steps, type Target } from "./raw-conn.ts"

const target = (): Target | undefined => {
  const { values } = parseArgs({
    options: {
      host: { type: "string" },
      port: { type: "string" },
      user: { type: "string" },
      database: { type: "string" },
      url: { type: "string" },
    },
  })
  const url = values.url ?? (values.host === undefined ? process.env["PGFX_TEST_URL"] : undefined)
  if (url !== undefined) {
    const u = new URL(url)
    return {
      host: u.hostname || "127.0.0.1",
      port: Number(u.port || "5432"),
      user: decodeURIComponent(u.username) || "postgres",
      database: decodeURIComponent(u.pathname.slice(1)) || "postgres",
    }
  }
  // No server given: capture from a throwaway TempCluster (trust auth, no TLS).
  if (values.host === undefined) return undefined
  return {
    host: values.host,
    port: Number(values.port ?? "5432"),
    user: values.user ?? "postgres",
    database: values.database ?? "postgres",
  }
}

const startupParams = (t: Target): Record<string, string> => ({
  user: t.user,
  database: t.database,
  application_name: "pgfx-golden",
  client_encoding: "UTF8",
  DateStyle: "ISO, MDY",
  TimeZone: "UTC",
})

const serverVersionOf = (frames: ReadonlyArray<Frame>): string => {
  for (const { msg } of frames) {
    if (msg._tag === "ParameterStatus" && msg.name === "server_version") return msg.value
  }
  return "unknown"
}

const int4 = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setInt32(0, n)
  return b
}

/** Protocol 3.0: the main conversation. */
const session30 = async (t: Target): Promise<{ version: string; steps: Array<Step> }> => {
  const s = steps()
  const c = await RawConn.open(t)
  const startup = await exchange(
    c,
    s.add,
    "startup",
    "StartupMessage (protocol 3.0), trust auth",
    build((w) => Frontend.startup(w, startupParams(t))),
  )

  await exchange(
    c,
    s.add,
    "simple-query",
    "several statements in one simple Query",
    build((w) =>
      Frontend.query(
        w,
        "CREATE TEMP TABLE golden_t (a int4, b text); " +
          "INSERT INTO golden_t VALUES (1, 'one'), (2, NULL); " +
          "SELECT a, b FROM golden_t ORDER BY a; " +
          "UPDATE golden_t SET b = 'two' WHERE a = 2",
      ),
    ),
  )

  await exchange(
    c,
    s.add,
    "extended-binary",
    "Parse/Describe S/Bind (binary int4 + text params)/Describe P/Execute/Sync with binary results",
    build((w) => {
      Frontend.parse(
        w,
        "",
        "SELECT $1::int4 + 1 AS n, $2::text AS t, NULL::int8 AS z, 1.5::float8 AS f, " +
          "'\\x0102'::bytea AS b, true AS ok",
        [23, 25],
      )
      Frontend.describe(w, "S", "")
      Frontend.bind(w, "", "", [1, 0], [int4(41), new TextEncoder().encode("hé")], [1])
      Frontend.describe(w, "P", "")
      Frontend.execute(w, "", 0)
      Frontend.sync(w)
    }),
  )

  await exchange(
    c,
    s.add,
    "extended-portal",
    "named statement and portal, Execute with a row limit (PortalSuspended), Close both",
    build((w) => {
      Frontend.parse(w, "golden_s", "SELECT g FROM generate_series(1, 5) g", [])
      Frontend.bind(w, "golden_p", "golden_s", [], [], [1])
      Frontend.execute(w, "golden_p", 2)
      Frontend.execute(w, "golden_p", 2)
      Frontend.execute(w, "golden_p", 0)
      Frontend.close(w, "P", "golden_p")
      Frontend.close(w, "S", "golden_s")
      Frontend.sync(w)
    }),
  )

  await exchange(
    c,
    s.add,
    "extended-nodata",
    "Describe of a statement without a result (NoData); SET reports a ParameterStatus",
    build((w) => {
      Frontend.parse(w, "", "SET application_name = 'pgfx-golden-2'", [])
      Frontend.describe(w, "S", "")
      Frontend.bind(w, "", "", [], [], [])
      Frontend.execute(w, "", 0)
      Frontend.sync(w)
    }),
  )

  await exchange(
    c,
    s.add,
    "extended-error",
    "Bind with a bad text value: ErrorResponse 22P02, the rest skipped until Sync",
    build((w) => {
      Frontend.parse(w, "", "SELECT $1::int4", [23])
      Frontend.bind(w, "", "", [0], [new TextEncoder().encode("notanint")], [])
      Frontend.execute(w, "", 0)
      Frontend.sync(w)
    }),
  )

  await exchange(
    c,
    s.add,
    "error",
    "simple Query on a missing table: ErrorResponse 42P01",
    build((w) => Frontend.query(w, "SELECT * FROM pgfx_missing_table")),
  )

  await exchange(
    c,
    s.add,
    "error-in-transaction",
    "BEGIN then division by zero: ReadyForQuery 'E'",
    build((w) => Frontend.query(w, "BEGIN; SELECT 1/0")),
  )

  await exchange(
    c,
    s.add,
    "rollback",
    "ROLLBACK of the failed transaction",
    build((w) => Frontend.query(w, "ROLLBACK")),
  )

  await exchange(
    c,
    s.add,
    "notice",
    "RAISE NOTICE from a DO block",
    build((w) => Frontend.query(w, "DO $$ BEGIN RAISE NOTICE 'hi'; END $$")),
  )

  await exchange(
    c,
    s.add,
    "listen",
    "LISTEN",
    build((w) => Frontend.query(w, "LISTEN pgfx_golden")),
  )

  {
    const client = build((w) => Frontend.query(w, "NOTIFY pgfx_golden, 'hello'"))
    c.send(client)
    const frames = await c.untilReady()
    if (!frames.some((f) => f.msg._tag === "NotificationResponse")) {
      frames.push(...(await c.until("NotificationResponse", (m) => m._tag === "NotificationResponse")))
    }
    s.add({
      name: "notify",
      description: "NOTIFY to itself: NotificationResponse (process id varies)",
      client: hex(client),
      server: hex(concat(frames.map((f) => f.bytes))),
    })
  }

  await exchange(
    c,
    s.add,
    "copy-out",
    "COPY TO STDOUT, text format",
    build((w) => Frontend.query(w, "COPY (SELECT g, 'row ' || g FROM generate_series(1, 3) g) TO STDOUT")),
  )

  await exchange(
    c,
    s.add,
    "copy-out-binary",
    "COPY TO STDOUT, binary format",
    build((w) => Frontend.query(w, "COPY (SELECT g::int4 FROM generate_series(1, 2) g) TO STDOUT (FORMAT binary)")),
  )

  {
    const q = build((w) => Frontend.query(w, "COPY golden_t FROM STDIN"))
    c.send(q)
    const head = await c.until("CopyInResponse", (m) => m._tag === "CopyInResponse")
    const data = build((w) => {
      Frontend.copyData(w, new TextEncoder().encode("3\tthree\n"))
      Frontend.copyData(w, new TextEncoder().encode("4\t\\N\n"))
      Frontend.copyDone(w)
    })
    c.send(data)
    const tail = await c.untilReady()
    s.add({
      name: "copy-in",
      description: "COPY FROM STDIN: CopyInResponse, two CopyData, CopyDone",
      client: hex(concat([q, data])),
      server: hex(concat([...head, ...tail].map((f) => f.bytes))),
    })
  }

  {
    const q = build((w) => Frontend.query(w, "COPY golden_t FROM STDIN"))
    c.send(q)
    const head = await c.until("CopyInResponse", (m) => m._tag === "CopyInResponse")
    const fail = build((w) => Frontend.copyFail(w, "pgfx golden abort"))
    c.send(fail)
    const tail = await c.untilReady()
    s.add({
      name: "copy-in-fail",
      description: "COPY FROM STDIN aborted by CopyFail: ErrorResponse 57014",
      client: hex(concat([q, fail])),
      server: hex(concat([...head, ...tail].map((f) => f.bytes))),
    })
  }

  await exchange(
    c,
    s.add,
    "empty-query",
    "an empty Query string: EmptyQueryResponse",
    build((w) => Frontend.query(w, "")),
  )

  // Not recorded: look up int4pl's OID for the FunctionCall step.
  c.send(build((w) => Frontend.query(w, "SELECT 'int4pl'::regproc::oid")))
  const lookup = await c.untilReady()
  const row = lookup.find((f) => f.msg._tag === "DataRow")?.msg
  const oid = row?._tag === "DataRow" && row.fields[0] ? Number(new TextDecoder().decode(row.fields[0])) : 177

  await exchange(
    c,
    s.add,
    "function-call",
    "FunctionCall int4pl(40, 2), binary: FunctionCallResponse",
    build((w) => Frontend.functionCall(w, oid, [1], [int4(40), int4(2)], 1)),
  )

  c.send(build((w) => Frontend.terminate(w)))
  await c.closed()
  return { version: serverVersionOf(startup), steps: s.list }
}

/** Protocol 3.2: long cancel keys, and a CancelRequest that interrupts a query. */
const session32 = async (t: Target): Promise<Array<Step>> => {
  const s = steps()
  const c = await RawConn.open(t)
  const startup = await exchange(
    c,
    s.add,
    "startup-3.2",
    "StartupMessage (protocol 3.2): a long BackendKeyData key",
    build((w) => Frontend.startup(w, startupParams(t), Frontend.PROTOCOL_3_2)),
  )
  const key = startup.find((f) => f.msg._tag === "BackendKeyData")?.msg
  if (key?._tag !== "BackendKeyData") throw new Error("no BackendKeyData")

  const q = build((w) => Frontend.query(w, "SELECT pg_sleep(30)"))
  c.send(q)
  await new Promise((r) => setTimeout(r, 300))
  const cancel = await RawConn.open(t)
  const cancelBytes = build((w) => Frontend.cancelRequest(w, key.processId, key.secretKey))
  cancel.send(cancelBytes)
  await cancel.closed()
  const frames = await c.untilReady()
  s.add({
    name: "cancel",
    description: "a query cancelled by a CancelRequest (3.2 key) on another connection: ErrorResponse 57014",
    client: hex(q),
    server: hex(concat(frames.map((f) => f.bytes))),
  })
  c.send(build((w) => Frontend.terminate(w)))
  await c.closed()
  return s.list
}

/** A StartupMessage asking for protocol 3.9 with an unknown _pq_ option. */
const negotiate = async (t: Target): Promise<Array<Step>> => {
  const s = steps()
  const c = await RawConn.open(t)
  await exchange(
    c,
    s.add,
    "negotiate",
    "StartupMessage 3.9 with an unknown _pq_ option: NegotiateProtocolVersion",
    build((w) => Frontend.startup(w, { ...startupParams(t), "_pq_.pgfx_unknown": "1" }, (3 << 16) | 9)),
  )
  c.send(build((w) => Frontend.terminate(w)))
  await c.closed()
  return s.list
}

/** SSLRequest and GSSENCRequest refused (the server has neither), then a normal startup. */
const encryptionRefused = async (t: Target): Promise<Array<Step>> => {
  const s = steps()
  const c = await RawConn.open(t)
  const ssl = build((w) => Frontend.sslRequest(w))
  const sslAnswer = await c.oneByteAnswer(ssl)
  s.add({
    name: "ssl-request",
    description: "SSLRequest: one byte",
    client: hex(ssl),
    server: hex(new Uint8Array([sslAnswer])),
  })
  const gss = build((w) => Frontend.gssEncRequest(w))
  const gssAnswer = await c.oneByteAnswer(gss)
  s.add({
    name: "gssenc-request",
    description: "GSSENCRequest: one byte",
    client: hex(gss),
    server: hex(new Uint8Array([gssAnswer])),
  })
  await exchange(
    c,
    s.add,
    "startup-after-refusal",
    "StartupMessage after both were refused",
    build((w) => Frontend.startup(w, startupParams(t))),
  )
  c.send(build((w) => Frontend.terminate(w)))
  await c.closed()
  return s.list
}

const main = async (): Promise<void> => {
  const given = target()
  if (given !== undefined) return capture(given)
  const scope = Effect.runSync(Scope.make())
  try {
    const cluster = await Effect.runPromise(Scope.provide(TempCluster.make({ url: false }), scope))
    console.log(`capturing from a TempCluster (PostgreSQL ${cluster.versionString})`)
    await capture({ host: cluster.host, port: cluster.port, user: cluster.user, database: cluster.database })
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

const capture = async (t: Target): Promise<void> => {
  const outDir = join(dirname(fileURLToPath(import.meta.url)), "..", "packages", "protocol", "test", "golden")
  mkdirSync(outDir, { recursive: true })
  const main30 = await session30(t)
  const files: Record<string, { description: string; steps: Array<Step> }> = {
    "session-3.0": { description: "one protocol 3.0 session, step by step", steps: main30.steps },
    "session-3.2-cancel": { description: "protocol 3.2 startup and a cancelled query", steps: await session32(t) },
    negotiate: { description: "protocol version negotiation", steps: await negotiate(t) },
    "encryption-refused": {
      description: "SSLRequest and GSSENCRequest answered 'N'",
      steps: await encryptionRefused(t),
    },
  }
  for (const [name, f] of Object.entries(files)) {
    const body = {
      generated: "by scripts/capture-goldens.ts; do not edit",
      serverVersion: main30.version,
      description: f.description,
      steps: f.steps,
    }
    writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(body, null, 2)}\n`)
    console.log(`wrote ${name}.json (${f.steps.length} steps)`)
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e)
    process.exit(1)
  },
)
