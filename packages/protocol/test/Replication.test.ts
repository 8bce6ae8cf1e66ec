import { describe, expect, it } from "@effect/vitest"
import * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import * as PgOutput from "@pgfx/protocol/PgOutput"
import { Reader } from "@pgfx/protocol/Reader"
import * as Replication from "@pgfx/protocol/Replication"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const golden = JSON.parse(
  readFileSync(fileURLToPath(new URL("./golden/replication/copy-both.json", import.meta.url)), "utf8"),
) as { generated: string; steps: ReadonlyArray<{ name: string; client: string; server: string }> }

const step = golden.steps[0]!
const server = new Uint8Array(Buffer.from(step.server, "hex"))
const client = new Uint8Array(Buffer.from(step.client, "hex"))

/** The server's messages, with each CopyData payload decoded in place (before the reader moves on). */
const frames = (): Array<{
  readonly msg: Backend.BackendMessage
  readonly copy?: Replication.ServerCopyData
  readonly pgoutput?: PgOutput.Message
}> => {
  const r = new Reader()
  r.push(server)
  const out = []
  while (r.next()) {
    const msg = Backend.decode(r.type, r.buf, r.view, r.start, r.end)
    if (r.type !== Backend.Type.CopyData) {
      out.push({ msg })
      continue
    }
    const copy = Replication.decodeCopyData(r.buf, r.view, r.start, r.end)
    const pgoutput =
      copy._tag === "XLogData" ? PgOutput.decode(r.buf, r.view, copy.dataStart, copy.dataEnd, false) : undefined
    out.push(pgoutput === undefined ? { msg, copy } : { msg, copy, pgoutput })
  }
  return out
}

describe("CopyBoth framing (captured START_REPLICATION)", () => {
  it("was captured by the script", () => {
    expect(golden.generated).toBe("by scripts/capture-replication-goldens.ts; do not edit")
    expect(step.name).toBe("copy-both")
  })

  it("CopyBothResponse, keepalives and XLogData, then CopyDone, a keepalive, CommandComplete and ReadyForQuery", () => {
    const fs = frames()
    const first = fs[0]!.msg
    expect(first).toEqual({ _tag: "CopyBothResponse", format: 0, columnFormats: [] })
    const data = fs.filter((f) => f.copy?._tag === "XLogData")
    expect(data.map((f) => f.pgoutput?._tag)).toEqual(["Begin", "Relation", "Insert", "Commit"])
    const insert = data[2]!.pgoutput!
    expect(insert._tag === "Insert" && insert.newTuple.length).toBe(2)
    // XLogData of the commit: its walStart is the commit LSN, walEnd the server's end of WAL.
    const commit = data[3]!
    const c = commit.pgoutput!
    if (c._tag !== "Commit" || commit.copy?._tag !== "XLogData") throw new Error("not a commit")
    expect(commit.copy.walEnd).toBeGreaterThanOrEqual(commit.copy.walStart)
    const keepalives = fs.map((f) => f.copy).filter((x) => x?._tag === "PrimaryKeepalive")
    expect(keepalives.length).toBeGreaterThan(0)
    expect(keepalives.some((k) => k?._tag === "PrimaryKeepalive" && k.replyRequested)).toBe(true)
    expect(keepalives.every((k) => k?._tag === "PrimaryKeepalive" && k.sendTime > 0n)).toBe(true)
    // After its CopyDone the server still sends a keepalive, then ends the command.
    const tail = fs.slice(fs.findIndex((f) => f.msg._tag === "CopyDone"))
    expect(tail[1]!.copy?._tag).toBe("PrimaryKeepalive")
    expect(tail.map((f) => f.msg).filter((m) => m._tag !== "CopyData")).toEqual([
      { _tag: "CopyDone" },
      { _tag: "CommandComplete", tag: "COPY 0" },
      { _tag: "CommandComplete", tag: "START_REPLICATION" },
      { _tag: "ReadyForQuery", status: "I" },
    ])
  })

  it("encodes the Standby status update byte for byte as sent", () => {
    const status = Frontend.build((w) =>
      Replication.standbyStatusUpdate(w, { write: 0x1000000n, flush: 0x1000000n, apply: 0x1000000n, clientTime: 0n }),
    )
    const done = Frontend.build((w) => Frontend.copyDone(w))
    expect(
      Buffer.from(client.subarray(client.length - status.length - done.length)).equals(Buffer.concat([status, done])),
    ).toBe(true)
    const view = new DataView(status.buffer, status.byteOffset, status.byteLength)
    expect(Replication.decodeStandbyStatus(status, view, 5, status.length)).toEqual({
      write: 0x1000000n,
      flush: 0x1000000n,
      apply: 0x1000000n,
      clientTime: 0n,
      replyRequested: false,
    })
  })

  it("refuses an unknown payload and a malformed keepalive", () => {
    const bad = new Uint8Array([0x78, 1, 2])
    expect(() => Replication.decodeCopyData(bad, new DataView(bad.buffer), 0, bad.length)).toThrow(
      Backend.ProtocolViolation,
    )
    const short = new Uint8Array([0x6b, 0, 0, 0])
    expect(() => Replication.decodeCopyData(short, new DataView(short.buffer), 0, short.length)).toThrow(/truncated/)
    const flag = new Uint8Array(18)
    flag[0] = 0x6b
    flag[17] = 7
    expect(() => Replication.decodeCopyData(flag, new DataView(flag.buffer), 0, flag.length)).toThrow(/reply flag/)
  })
})

describe("LSNs and timestamps", () => {
  it("formats and parses LSNs as PostgreSQL prints them", () => {
    expect(Replication.formatLsn(0x16b374d848n)).toBe("16/B374D848")
    expect(Replication.formatLsn(0n)).toBe("0/0")
    expect(Replication.parseLsn("16/B374D848")).toBe(0x16b374d848n)
    expect(Replication.parseLsn("FFFFFFFF/FFFFFFFF")).toBe(0xffffffffffffffffn)
    expect(Replication.parseLsn("16B374D848")).toBeUndefined()
    expect(Replication.parseLsn("1/123456789")).toBeUndefined()
  })

  it("converts PostgreSQL timestamps", () => {
    expect(Replication.timestampToDate(0n).toISOString()).toBe("2000-01-01T00:00:00.000Z")
    expect(Replication.timestampToDate(1_500_000n).toISOString()).toBe("2000-01-01T00:00:01.500Z")
    const now = Replication.nowTimestamp()
    expect(Math.abs(Replication.timestampToDate(now).getTime() - Date.now())).toBeLessThan(5000)
  })
})
