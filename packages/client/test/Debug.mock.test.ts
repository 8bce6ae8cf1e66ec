/**
 * Debug mode's checks against a scripted server: a message the hot path reads only in part (a
 * DataRow with bytes after its last field, whose values `execute` does not read) is accepted
 * without debug mode and closes the session with PgProtocolError with it; the trace goes to the
 * `log` function given.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import { describe, expect, it } from "@effect/vitest"
import * as MockBackend from "@pgfx/testing/MockBackend"
import { Effect } from "effect"
import { failureOf } from "../../../test/support/failure.ts"

/** 'D', length 12, one field of 1 byte ("x"), then one byte no DataRow has. */
const sloppyDataRow = new Uint8Array([0x44, 0, 0, 0, 12, 0, 1, 0, 0, 0, 1, 0x78, 0x41])

const run = (debug: PgConnection.PgConnectionOptions["debug"]) =>
  Effect.gen(function* () {
    const mock = yield* MockBackend.make([
      MockBackend.acceptUnauthenticatedConnection(),
      MockBackend.expectTag("Query"),
      MockBackend.send({
        _tag: "RowDescription",
        fields: [
          { name: "v", tableOid: 0, columnAttribute: 0, typeOid: 25, typeSize: -1, typeModifier: -1, format: 0 },
        ],
      }),
      MockBackend.sendRaw(sloppyDataRow),
      MockBackend.sendAll([
        { _tag: "CommandComplete", tag: "SELECT 1" },
        { _tag: "ReadyForQuery", status: "I" },
      ]),
    ])
    const conn = yield* PgConnection.make({
      host: mock.host,
      port: mock.port,
      user: "u",
      database: "d",
      sslMode: "disable",
      environment: {},
      debug,
    })
    return yield* Effect.exit(conn.execute("SELECT 'x'"))
  }).pipe(Effect.scoped)

describe("debug mode checks", () => {
  it.live("a malformed message the hot path tolerates closes the session only in debug mode", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const without = yield* run(undefined)
      expect(without._tag === "Failure" ? String(without.cause) : "Success").toBe("Success")
      const error = failureOf(yield* run({ trace: true, log: (line) => lines.push(line) }))
      expect(error._tag).toBe("PgProtocolError")
      expect(lines.some((l) => / F Query "SELECT 'x'"$/.test(l))).toBe(true)
    }),
  )
})
