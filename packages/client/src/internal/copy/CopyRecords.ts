/**
 * The binary COPY record encoder behind `copyRecordsToTable`: the target columns are described
 * once (Parse + Describe of `SELECT cols FROM table`), their codecs come from the connection's
 * registry (introspecting unknown types), and each row is written straight into one Writer with
 * the parameters' codecs: every value a query parameter takes, values the parameter path would
 * send as text (strings for dates, numbers, ...) read by the codec's own text parser first
 * (`Codec.encodeBinaryValue`). Frames are flushed about every 64 KiB, so a load
 * costs one socket write per batch, never one Effect per row.
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import { Writer } from "@pgfx/protocol/Writer"
import { type Codec, DecodeError, EncodeError, encodeBinaryValue, jsTypeOf } from "@pgfx/types/Codec"
import { Effect, Stream } from "effect"
import { PgCopyRecordError, PgInterfaceError, type PgQueryError } from "../../PgError.ts"
import type { ConnectionCore } from "../connection/Core.ts"
import { type CopyOutput, serverEnded } from "./CopyIn.ts"
import { type Description, PrepareHandler } from "../wire/Handlers.ts"

/** Why a string a query parameter would take can fail here. */
const STRINGS =
  " (a binary COPY reads strings with pgfx's own parser, which takes the form PostgreSQL prints — ISO 8601 for" +
  " dates and times, with a UTC offset or Z for timestamptz — where a query parameter lets the server parse" +
  " any input form; pass the value class or a JS Date, or use copyToTable with the text or csv format)"

/** Flush a CopyData frame once it holds this many bytes. */
const BATCH = 64 * 1024

const SIGNATURE = new Uint8Array([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00])

/** A described target column. */
export interface TargetColumn {
  readonly name: string
  readonly typeOid: number
  readonly codec: Codec
}

/** Describes `SELECT <cols> FROM <target>` and resolves a binary codec for every column. */
export const describeColumns = (
  conn: ConnectionCore,
  selectSql: string,
): Effect.Effect<ReadonlyArray<TargetColumn>, PgQueryError> =>
  Effect.gen(function* () {
    const description = yield* conn.request<Description>(
      (w) => {
        Frontend.parse(w, "", selectSql, [])
        Frontend.describe(w, "S", "")
        Frontend.sync(w)
      },
      (c) => new PrepareHandler(c, selectSql),
    )
    const fields = description.fields
    const registry = yield* conn.cache.types.registryFor(
      fields.map((f) => f.typeOid),
      (b, m) => conn.request(b, m),
    )
    const columns: Array<TargetColumn> = []
    for (const f of fields) {
      const codec = registry.get(f.typeOid)
      if (codec === undefined || !codec.binary) {
        return yield* new PgInterfaceError({
          message: `cannot copy records into column "${f.name}": its type (${
            codec?.name ?? `oid ${f.typeOid}`
          }) has no binary codec; use copyToTable with the text or csv format`,
        })
      }
      columns.push({ name: f.name, typeOid: f.typeOid, codec })
    }
    return columns
  })

/** Encodes rows into CopyData frames of about {@link BATCH} bytes. */
export class RecordEncoder {
  readonly columns: ReadonlyArray<TargetColumn>
  readonly names: ReadonlyArray<string>
  w: Writer
  frameAt = 0
  /** Index of the next row (for error messages). */
  index = 0
  /** Rows in the current frame. */
  rows = 0

  constructor(columns: ReadonlyArray<TargetColumn>) {
    this.columns = columns
    this.names = columns.map((c) => c.name)
    this.w = this.start()
    this.w.bytes(SIGNATURE).int32(0).int32(0)
  }

  private start(): Writer {
    const w = new Writer(BATCH + 16 * 1024)
    w.byte(0x64)
    this.frameAt = w.reserveLength()
    this.rows = 0
    return w
  }

  get full(): boolean {
    return this.w.pos >= BATCH
  }

  /** The current frame (header + rows), and a fresh writer for the next one. */
  take(): Uint8Array {
    const w = this.w
    w.patchLength(this.frameAt)
    const bytes = w.finish()
    this.w = this.start()
    return bytes
  }

  /** The last frame, with the trailer. */
  finish(): Uint8Array {
    this.w.int16(-1)
    return this.take()
  }

  /** Appends one row; throws PgCopyRecordError (nothing of the row is kept). */
  add(row: unknown): void {
    const w = this.w
    const columns = this.columns
    const n = columns.length
    const index = this.index++
    const start = w.pos
    let values: ArrayLike<unknown>
    if (Array.isArray(row)) {
      if (row.length !== n) {
        throw new PgCopyRecordError({
          message: `record ${index} has ${row.length} values, the copy expects ${n} (${this.names.join(", ")})`,
          row: index,
          column: undefined,
          typeName: undefined,
          actualType: "array",
        })
      }
      values = row
    } else if (typeof row === "object" && row !== null) {
      const obj = row as Record<string, unknown>
      const arr = new Array<unknown>(n)
      for (let i = 0; i < n; i++) arr[i] = obj[columns[i]!.name]
      values = arr
    } else {
      throw new PgCopyRecordError({
        message: `record ${index} must be an array of values or an object keyed by column, got ${jsTypeOf(row)}`,
        row: index,
        column: undefined,
        typeName: undefined,
        actualType: jsTypeOf(row),
      })
    }
    w.int16(n)
    for (let i = 0; i < n; i++) {
      const v = values[i]
      if (v === null || v === undefined) {
        w.int32(-1)
        continue
      }
      const col = columns[i]!
      const at = w.reserveLength()
      try {
        encodeBinaryValue(col.codec, v, w)
      } catch (e) {
        w.pos = start
        throw new PgCopyRecordError({
          message: `cannot encode record ${index}, column "${col.name}" as ${col.codec.name}: ${
            e instanceof EncodeError || e instanceof Error ? e.message : String(e)
          }${e instanceof DecodeError ? STRINGS : ""}`,
          row: index,
          column: col.name,
          typeName: col.codec.name,
          actualType: e instanceof EncodeError ? e.actualType : jsTypeOf(v),
          cause: e,
        })
      }
      w.patchValueLength(at)
    }
    this.rows++
  }
}

/** What `copyRecordsToTable` accepts as records. */
export type Records = Iterable<unknown> | AsyncIterable<unknown> | Stream.Stream<unknown, unknown>

const sendFrame = (out: CopyOutput, enc: RecordEncoder): Effect.Effect<void> => {
  const rows = enc.rows
  const frame = enc.take()
  return out.send(frame, frame.length - 5, rows)
}

/** Adds a row; a bad value becomes a typed failure. */
const tryAdd = (enc: RecordEncoder, row: unknown): Effect.Effect<never, PgCopyRecordError> | undefined => {
  try {
    enc.add(row)
    return undefined
  } catch (e) {
    return Effect.fail(e as PgCopyRecordError)
  }
}

/** The producer for `copyRecordsToTable`. */
export const produceRecords =
  (columns: ReadonlyArray<TargetColumn>, records: Records) =>
  (out: CopyOutput): Effect.Effect<void, unknown> => {
    const enc = new RecordEncoder(columns)
    const end = Effect.suspend(() => {
      if (out.ended) return serverEnded
      const rows = enc.rows
      const frame = enc.finish()
      return out.send(frame, frame.length - 5, rows)
    })
    if (Stream.isStream(records)) {
      return Effect.andThen(
        Stream.runForEachArray(records as Stream.Stream<unknown, unknown>, (rows) =>
          Effect.suspend(() => {
            const frames: Array<Effect.Effect<void>> = []
            for (const row of rows) {
              const failed = tryAdd(enc, row)
              if (failed !== undefined) return failed
              if (enc.full) frames.push(sendFrame(out, enc))
            }
            if (out.ended) return serverEnded
            return frames.length === 0 ? Effect.void : Effect.forEach(frames, (f) => f, { discard: true })
          }),
        ),
        end,
      )
    }
    if (Symbol.asyncIterator in (records as object)) {
      return produceRecords(
        columns,
        Stream.fromAsyncIterable(records as AsyncIterable<unknown>, (e) => e),
      )(out)
    }
    const iterator = (records as Iterable<unknown>)[Symbol.iterator]()
    const loop: Effect.Effect<void, unknown> = Effect.suspend(() => {
      for (;;) {
        const next = iterator.next()
        if (next.done === true) return end
        const failed = tryAdd(enc, next.value)
        if (failed !== undefined) return failed
        if (enc.full) {
          if (out.ended) return serverEnded
          return Effect.andThen(sendFrame(out, enc), loop)
        }
      }
    })
    return loop
  }
