import { describe, expect, it } from "@effect/vitest"
import { ProtocolViolation } from "@pgfx/protocol/Backend"
import * as PgOutput from "@pgfx/protocol/PgOutput"
import { parseLsn } from "@pgfx/protocol/Replication"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

type Msg = PgOutput.Message

interface Scenario {
  readonly name: string
  readonly options: Record<string, string>
  readonly messages: ReadonlyArray<{ readonly lsn: string; readonly hex: string }>
}

const golden = JSON.parse(
  readFileSync(fileURLToPath(new URL("./golden/replication/pgoutput.json", import.meta.url)), "utf8"),
) as { generated: string; serverVersion: string; scenarios: ReadonlyArray<Scenario> }

const bytesOf = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, "hex"))

/** Decodes a scenario's messages in order, tracking Stream Start / Stop. */
const decodeAll = (name: string): Array<Msg> => {
  const s = golden.scenarios.find((x) => x.name === name)
  if (s === undefined) throw new Error(`no scenario ${name}`)
  let inStream = false
  return s.messages.map((m) => {
    const b = bytesOf(m.hex)
    const msg = PgOutput.decode(b, new DataView(b.buffer, b.byteOffset, b.byteLength), 0, b.length, inStream)
    inStream = PgOutput.nextInStream(msg, inStream)
    return msg
  })
}

const as = <T extends Msg["_tag"]>(m: Msg | undefined, tag: T): Msg & { readonly _tag: T } => {
  expect(m?._tag).toBe(tag)
  return m as Msg & { readonly _tag: T }
}

const only = <T extends Msg["_tag"]>(ms: ReadonlyArray<Msg>, tag: T): Array<Msg & { readonly _tag: T }> =>
  ms.filter((m): m is Msg & { readonly _tag: T } => m._tag === tag)

const text = (v: PgOutput.TupleValue | undefined): string => {
  if (v?._tag !== "Text") throw new Error(`expected a text value, got ${v?._tag}`)
  return new TextDecoder().decode(v.data)
}

const int4 = (v: PgOutput.TupleValue | undefined): number => {
  if (v?._tag !== "Binary") throw new Error(`expected a binary value, got ${v?._tag}`)
  return new DataView(v.data.buffer, v.data.byteOffset, v.data.byteLength).getInt32(0)
}

/** Collapses runs of one tag: ["Insert", "Insert"] -> "Insert*2". */
const shape = (ms: ReadonlyArray<Msg>): Array<string> => {
  const out: Array<[string, number]> = []
  for (const m of ms) {
    const last = out[out.length - 1]
    if (last !== undefined && last[0] === m._tag) last[1]++
    else out.push([m._tag, 1])
  }
  return out.map(([t, n]) => (n === 1 ? t : `${t}*`))
}

describe("pgoutput goldens", () => {
  it("were captured by the script from a real server", () => {
    expect(golden.generated).toBe("by scripts/capture-replication-goldens.ts; do not edit")
    expect(golden.serverVersion).toMatch(/\d+\.\d+/)
    expect(golden.scenarios.map((s) => s.name)).toEqual([
      "v1-text",
      "v2-binary",
      "v2-streaming",
      "v3-two-phase",
      "v4-parallel",
    ])
  })

  describe("protocol 1, text", () => {
    const ms = decodeAll("v1-text")

    it("has every transaction in order", () => {
      expect(shape(ms)).toEqual([
        ...["Begin", "Type*", "Relation", "Insert", "Relation", "Insert*", "Commit"],
        ...["Begin", "Update", "Commit", "Begin", "Update", "Commit", "Begin", "Update", "Commit"],
        ...["Begin", "Delete", "Commit", "Begin", "Delete", "Commit"],
        ...["Begin", "Message", "Commit", "Message"],
        ...["Begin", "Type*", "Relation*", "Truncate", "Commit"],
        ...["Begin", "Origin", "Relation", "Insert", "Commit"],
        "Message",
      ])
    })

    it("Begin and Commit carry the transaction's LSNs and times", () => {
      const begin = as(ms[0], "Begin")
      const commit = only(ms, "Commit")[0]!
      expect(commit.flags).toBe(0)
      expect(begin.finalLsn).toBe(commit.commitLsn)
      expect(commit.endLsn).toBeGreaterThan(commit.commitLsn)
      expect(begin.commitTime).toBe(commit.commitTime)
      expect(begin.xid).toBeGreaterThan(0)
    })

    it("Type names the enum and the composite; Relation describes the columns", () => {
      const types = only(ms, "Type").slice(0, 2)
      expect(types.map((t) => `${t.namespace}.${t.name}`).sort()).toEqual(["public.golden_mood", "public.golden_pair"])
      const items = only(ms, "Relation").find((r) => r.name === "golden_items")!
      expect(items.namespace).toBe("public")
      expect(items.replicaIdentity).toBe("d")
      expect(items.columns.map((c) => [c.name, c.key])).toEqual([
        ["id", true],
        ["name", false],
        ["body", false],
        ["tags", false],
        ["mood", false],
        ["pair", false],
      ])
      expect(items.columns[0]!.typeOid).toBe(23)
      expect(items.columns[3]!.typeOid).toBe(1009)
      expect(items.columns.find((c) => c.name === "mood")!.typeOid).toBe(
        types.find((t) => t.name === "golden_mood")!.typeOid,
      )
      const full = only(ms, "Relation").find((r) => r.name === "golden_full")!
      expect(full.replicaIdentity).toBe("f")
      expect(full.columns.every((c) => c.key)).toBe(true)
    })

    it("Insert carries the new row as text", () => {
      const insert = as(ms[4], "Insert")
      const values = insert.newTuple
      expect(text(values[0])).toBe("1")
      expect(text(values[1])).toBe("one")
      expect(text(values[2])).toHaveLength(6400)
      expect(text(values[3])).toBe("{a,NULL,c}")
      expect(text(values[4])).toBe("happy")
      expect(text(values[5])).toBe("(7,seven)")
    })

    it("Update marks the unchanged TOASTed column as Unchanged, never NULL", () => {
      const [toast, key, row] = only(ms, "Update")
      expect(toast!.old).toBeUndefined()
      expect(text(toast!.newTuple[1])).toBe("uno")
      expect(toast!.newTuple[2]).toBe(PgOutput.Unchanged)
      expect(key!.old?.kind).toBe("key")
      expect(text(key!.old!.tuple[0])).toBe("1")
      // Only the key columns are sent in the old key; the others are NULL there.
      expect(key!.old!.tuple[1]).toBe(PgOutput.Null)
      expect(text(key!.newTuple[0])).toBe("2")
      expect(row!.old?.kind).toBe("row")
      expect(row!.old!.tuple.map(text)).toEqual(["1", "first"])
      expect(row!.newTuple.map(text)).toEqual(["1", "changed"])
    })

    it("Delete carries the old key or the old row", () => {
      const [key, row] = only(ms, "Delete")
      expect(key!.old.kind).toBe("key")
      expect(text(key!.old.tuple[0])).toBe("2")
      expect(row!.old.kind).toBe("row")
      expect(row!.old.tuple.map(text)).toEqual(["2", "second"])
    })

    it("Truncate lists the relations and its options", () => {
      const t = as(only(ms, "Truncate")[0], "Truncate")
      expect(t.cascade).toBe(true)
      expect(t.restartIdentity).toBe(true)
      const relations = only(ms, "Relation")
      const names = t.relationOids.map((oid) => relations.find((r) => r.relationOid === oid)?.name)
      expect(names.sort()).toEqual(["golden_full", "golden_items"])
    })

    it("Message: transactional inside a transaction, and not", () => {
      const [inside, outside, end] = only(ms, "Message")
      expect(inside!.transactional).toBe(true)
      expect(inside!.prefix).toBe("golden")
      expect(new TextDecoder().decode(inside!.content)).toBe("in a transaction")
      expect(outside!.transactional).toBe(false)
      expect(new TextDecoder().decode(outside!.content)).toBe("outside")
      expect(end!.prefix).toBe("golden-end")
      expect(end!.content).toHaveLength(0)
      expect(outside!.lsn).toBeGreaterThan(0n)
    })

    it("Origin names the origin and its commit LSN", () => {
      const o = as(only(ms, "Origin")[0], "Origin")
      expect(o.name).toBe("golden_origin")
      expect(o.commitLsn).toBe(parseLsn("0/ABCDEF"))
    })
  })

  describe("protocol 2, binary", () => {
    const ms = decodeAll("v2-binary")

    it("sends values in binary", () => {
      const insert = only(ms, "Insert")[0]!
      expect(int4(insert.newTuple[0])).toBe(1)
      expect(insert.newTuple[1]).toEqual({ _tag: "Binary", data: new TextEncoder().encode("one") })
      const update = only(ms, "Update")[0]!
      expect(update.newTuple[2]).toBe(PgOutput.Unchanged)
    })
  })

  describe("protocol 2, streaming", () => {
    const ms = decodeAll("v2-streaming")

    it("streams a large transaction in blocks, then commits it; an aborted one ends with Stream Abort", () => {
      expect(shape(ms)).toEqual([
        ...["StreamStart", "Relation", "Insert*", "StreamStop", "StreamStart", "Insert*", "Message", "StreamStop"],
        "StreamCommit",
        ...["StreamStart", "Relation", "Insert*", "StreamStop", "StreamAbort"],
        "Message",
      ])
      const starts = only(ms, "StreamStart")
      expect(starts.map((s) => s.firstSegment)).toEqual([true, false, true])
      const xid = starts[0]!.xid
      expect(starts[1]!.xid).toBe(xid)
      const inserts = only(ms, "Insert")
      expect(inserts.slice(0, 600).every((i) => i.xid === xid)).toBe(true)
      expect(only(ms, "Relation")[0]!.xid).toBe(xid)
      expect(only(ms, "Message")[0]!.xid).toBe(xid)
      // The end marker is sent outside any stream: no xid.
      expect(only(ms, "Message")[1]!.xid).toBeUndefined()
      const commit = as(only(ms, "StreamCommit")[0], "StreamCommit")
      expect(commit.xid).toBe(xid)
      expect(commit.endLsn).toBeGreaterThan(commit.commitLsn)
      const abort = as(only(ms, "StreamAbort")[0], "StreamAbort")
      expect(abort.xid).toBe(starts[2]!.xid)
      expect(abort.subXid).toBe(abort.xid)
      expect(abort.abortLsn).toBeUndefined()
    })
  })

  describe("protocol 3, two-phase", () => {
    const ms = decodeAll("v3-two-phase")

    it("Begin Prepare, Prepare, Commit Prepared, Rollback Prepared and Stream Prepare", () => {
      expect(shape(ms)).toEqual([
        ...["BeginPrepare", "Relation", "Insert", "Prepare", "CommitPrepared"],
        ...["BeginPrepare", "Insert", "Prepare", "RollbackPrepared"],
        ...["StreamStart", "Relation", "Insert*", "StreamStop", "StreamStart", "Insert*", "StreamStop"],
        ...["StreamPrepare", "CommitPrepared", "Message"],
      ])
      const [b1] = only(ms, "BeginPrepare")
      const [p1, p2] = only(ms, "Prepare")
      expect(b1!.gid).toBe("golden_g1")
      expect(p1!.gid).toBe("golden_g1")
      expect(p1!.xid).toBe(b1!.xid)
      expect(p1!.prepareLsn).toBe(b1!.prepareLsn)
      expect(p1!.endLsn).toBe(b1!.endLsn)
      const [c1, c3] = only(ms, "CommitPrepared")
      expect(c1!.gid).toBe("golden_g1")
      expect(c1!.commitLsn).toBeGreaterThanOrEqual(p1!.endLsn)
      const rb = as(only(ms, "RollbackPrepared")[0], "RollbackPrepared")
      expect(rb.gid).toBe("golden_g2")
      expect(rb.prepareEndLsn).toBe(p2!.endLsn)
      expect(rb.rollbackEndLsn).toBeGreaterThan(rb.prepareEndLsn)
      expect(rb.rollbackTime).toBeGreaterThanOrEqual(rb.prepareTime)
      const sp = as(only(ms, "StreamPrepare")[0], "StreamPrepare")
      expect(sp.gid).toBe("golden_g3")
      expect(sp.xid).toBe(only(ms, "StreamStart")[0]!.xid)
      expect(c3!.gid).toBe("golden_g3")
    })
  })

  describe("protocol 4, parallel streaming", () => {
    const ms = decodeAll("v4-parallel")

    it("Stream Abort carries the abort LSN and time", () => {
      const abort = as(only(ms, "StreamAbort")[0], "StreamAbort")
      expect(abort.abortLsn).toBeGreaterThan(0n)
      expect(abort.abortTime).toBeGreaterThan(0n)
      expect(abort.xid).toBe(only(ms, "StreamStart")[0]!.xid)
    })
  })
})

describe("malformed messages", () => {
  const decodeBytes = (bytes: ReadonlyArray<number>, inStream = false) => {
    const b = new Uint8Array(bytes)
    return PgOutput.decode(b, new DataView(b.buffer), 0, b.length, inStream)
  }

  it("an unknown type, a truncated body, trailing bytes and an unknown column kind are protocol violations", () => {
    expect(() => decodeBytes([0x7a])).toThrow(ProtocolViolation)
    expect(() => decodeBytes([0x42, 0, 0, 0])).toThrow(/truncated/)
    expect(() => decodeBytes([0x45, 0])).toThrow(/trailing/)
    // Insert into relation 1, 'N', one column of kind 'x'.
    expect(() => decodeBytes([0x49, 0, 0, 0, 1, 0x4e, 0, 1, 0x78])).toThrow(/unknown column kind/)
    // Insert without 'N'.
    expect(() => decodeBytes([0x49, 0, 0, 0, 1, 0x4b, 0, 0])).toThrow(/expected 'N'/)
  })

  it("a column length past the message is refused", () => {
    expect(() => decodeBytes([0x49, 0, 0, 0, 1, 0x4e, 0, 1, 0x74, 0, 0, 0, 9, 0x41])).toThrow(/truncated/)
  })
})
