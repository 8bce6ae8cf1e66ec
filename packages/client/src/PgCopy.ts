/**
 * COPY in and out, asyncpg's four methods in the shape of Effect:
 *
 * | function | COPY | data |
 * | --- | --- | --- |
 * | {@link copyFromTable}, {@link copyFromQuery} | `TO STDOUT` | to a file path, a `Sink`, or a callback; returns "COPY n" |
 * | {@link streamFromTable}, {@link streamFromQuery} | `TO STDOUT` | a `Stream<Uint8Array>` to pipe anywhere |
 * | {@link copyToTable} | `FROM STDIN` | from a file path, a `Stream<Uint8Array>`, or an (async) iterable of chunks |
 * | {@link copyRecordsToTable} | `FROM STDIN (FORMAT binary)` | rows (arrays or objects) encoded with the parameter codecs |
 *
 * Each takes a connection, a pool, or a `PgClient` service value. A pool or client runs the copy
 * on the fiber's open transaction (or savepoint, or `PgCurrentConnection`) when it is on one of
 * its connections, so the copy commits or rolls back with it; otherwise it checks one connection
 * out for the whole copy.
 *
 * Details:
 * - Backpressure both ways: a slow consumer pauses reading the socket (the server waits); a
 *   fast producer waits for the socket to drain, so memory stays bounded.
 * - Interrupting (or a `timeout`) a COPY TO cancels the statement; a COPY FROM is aborted with
 *   CopyFail. Either way nothing is half-committed and the connection stays usable.
 * - A server error mid-COPY (a bad line, a constraint) is a `PgServerError` with the server's
 *   detail and context (e.g. `COPY t, line 3`).
 * - Progress: `onProgress` is called once per batch (never per row) with the bytes and rows so far.
 *
 * @example
 * ```ts
 * import * as PgCopy from "@pgfx/client/PgCopy"
 *
 * const status = yield* PgCopy.copyRecordsToTable(conn, "mytable", {
 *   records: [[1, "foo", "bar"], [2, "ham", "spam"]],
 * }) // "COPY 2"
 * yield* PgCopy.copyFromTable(conn, "mytable", { output: "/tmp/mytable.csv", format: "csv", header: true })
 * ```
 * @since 0.1.0
 */
import { Duration, Effect, Sink, Stream } from "effect"
import * as fs from "node:fs"
import * as Frontend from "@pgfx/protocol/Frontend"
import type { ConnectionCore } from "./internal/connection/Core.ts"
import { connectionBehind } from "./internal/connection/Internals.ts"
import { copyIn, type CopyOutput, produceChunks, type Progress } from "./internal/copy/CopyIn.ts"
import { copyOutStream } from "./internal/copy/CopyOut.ts"
import { describeColumns, produceRecords, type Records } from "./internal/copy/CopyRecords.ts"
import { copyInSql, copyOutSql, quoteIdent, tableTarget } from "./internal/copy/CopySql.ts"
import { type Description, PrepareHandler } from "./internal/wire/Handlers.ts"
import { usable } from "./internal/pool/Lease.ts"
import * as Route from "./internal/pool/Route.ts"
import type { PgClientShape } from "./PgClient.ts"
import type { PgConnection } from "./PgConnection.ts"
import { PgCopyFileError, type PgCopyRecordError, PgInterfaceError, type PgQueryError } from "./PgError.ts"
import type { PgPool, PgPoolError } from "./PgPool.ts"
import { type CopyOptions } from "./internal/Options.ts"
export type { CopyOptions } from "./internal/Options.ts"

export { PgCopyFileError, PgCopyRecordError } from "./PgCopyError.ts"

/** Rows and bytes copied so far. @since 0.1.0 */
export type CopyProgress = Progress

/** Options every copy takes. @since 0.1.0 */
export interface CopyCommonOptions {
  /**
   * Fails the copy with `PgTimeoutError` past this duration (default: the connection's
   * `commandTimeout`); a COPY TO is cancelled, a COPY FROM aborted with CopyFail.
   */
  readonly timeout?: Duration.Input | undefined
  /** Called once per batch with the bytes (and rows, when known) copied so far. */
  readonly onProgress?: ((progress: CopyProgress) => void) | undefined
}

/** Which table (and columns) a copy reads or writes. @since 0.1.0 */
export interface CopyTableOptions {
  readonly columns?: ReadonlyArray<string> | undefined
  readonly schemaName?: string | undefined
}

/**
 * Where COPY TO data goes: a file path (created or truncated), a `Sink` of chunks, or a
 * callback called with each batch's chunks in order (return an Effect to apply backpressure).
 * @since 0.1.0
 */
export type CopyDestination<E = never, R = never> =
  string | Sink.Sink<unknown, Uint8Array, unknown, E, R> | ((chunk: Uint8Array) => Effect.Effect<unknown, E, R> | void)

/**
 * Where COPY FROM data comes from: a file path, a `Stream` of chunks, or an (async) iterable of
 * chunks (`Uint8Array`; strings are encoded as UTF-8).
 * @since 0.1.0
 */
export type CopySource<E = never> =
  string | Stream.Stream<Uint8Array | string, E> | Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>

/** A connection, a pool, or a `PgClient` service value. @since 0.1.0 */
export type CopyTarget = PgConnection | PgPool | PgClientShape

/** Failures of the copy functions on a pool or client. @since 0.1.0 */
export type PgCopyError = PgQueryError | PgPoolError | PgCopyFileError

// ---------------------------------------------------------------------------------------------
// Targets

const resolve = (conn: PgConnection): Effect.Effect<ConnectionCore, PgInterfaceError> =>
  Effect.flatMap(usable(conn, "copy"), () => {
    const target = connectionBehind(conn)
    return target !== undefined
      ? Effect.succeed(target)
      : Effect.fail(new PgInterfaceError({ message: "COPY needs a pgfx connection, pool or client" }))
  })

/** Runs `f` where the copy runs (internal/pool/Route.ts: one checkout for a pool or client). */
const onConnection = <A, E, R>(
  target: CopyTarget,
  f: (conn: ConnectionCore) => Effect.Effect<A, E, R>,
): Effect.Effect<A, E | PgQueryError | PgPoolError, R> =>
  Route.withConnection(target, (c) => Effect.flatMap(resolve(c), f))

/** A stream where the copy runs (a pool or client checks one out for the stream's life). */
const streamOnConnection = <A>(
  target: CopyTarget,
  f: (conn: ConnectionCore) => Stream.Stream<A, PgQueryError>,
): Stream.Stream<A, PgQueryError | PgPoolError> => Route.stream(target, (c) => Stream.unwrap(Effect.map(resolve(c), f)))

/** Counts the copy as a running operation of `conn` and applies the timeout. */
const operation = <A, E, R>(
  conn: ConnectionCore,
  timeout: Duration.Input | undefined,
  effect: Effect.Effect<A, E, R>,
): Effect.Effect<A, E | PgQueryError, R> =>
  conn.withTimeout(effect, timeout === undefined ? undefined : { timeout }, "the COPY timed out and was aborted")

/** Runs `f` synchronously, turning a thrown PgInterfaceError (bad options) into a failure. */
const build = <A>(f: () => A): Effect.Effect<A, PgInterfaceError> =>
  Effect.try({
    try: f,
    catch: (e) => (e instanceof PgInterfaceError ? e : new PgInterfaceError({ message: String(e) })),
  })

// ---------------------------------------------------------------------------------------------
// COPY ... TO STDOUT

/** Options of {@link streamFromTable}. @since 0.1.0 */
export interface StreamFromTableOptions extends CopyOptions, CopyTableOptions, CopyCommonOptions {}

/** Options of {@link copyFromTable}. @since 0.1.0 */
export interface CopyFromTableOptions<E, R> extends StreamFromTableOptions {
  readonly output: CopyDestination<E, R>
}

/** Options of {@link streamFromQuery}. @since 0.1.0 */
export interface StreamFromQueryOptions extends CopyOptions, CopyCommonOptions {}

/** Options of {@link copyFromQuery}. @since 0.1.0 */
export interface CopyFromQueryOptions<E, R> extends StreamFromQueryOptions {
  readonly output: CopyDestination<E, R>
}

const tableOutSql = (table: string, o: StreamFromTableOptions): string =>
  copyOutSql(tableTarget(table, o.schemaName, o.columns), o)

/** Inlines `args` into `query` as typed literals (COPY takes no parameters; asyncpg does the same). */
const inlineArgs = (
  conn: ConnectionCore,
  query: string,
  args: ReadonlyArray<unknown>,
): Effect.Effect<string, PgQueryError> => {
  if (args.length === 0) return Effect.succeed(query)
  return Effect.gen(function* () {
    const described = yield* conn.request<Description>(
      (w) => {
        Frontend.parse(w, "", query, [])
        Frontend.describe(w, "S", "")
        Frontend.sync(w)
      },
      (c) => new PrepareHandler(c, query),
    )
    const oids = described.paramOids
    if (oids.length !== args.length) {
      return yield* new PgInterfaceError({
        message: `the query expects ${oids.length} argument${oids.length === 1 ? "" : "s"}, got ${args.length}`,
      })
    }
    const types = oids.map((oid) => `format_type(${oid}, NULL)`).join(", ")
    const typeRow = yield* conn.fetch(`SELECT ${types}`)
    const typeNames = (typeRow[0]?.values ?? []) as ReadonlyArray<string>
    const quotedRow = yield* conn.fetch(
      `SELECT ${typeNames.map((t, i) => `quote_literal($${i + 1}::${t}::text)`).join(", ")}`,
      args,
    )
    const values = (quotedRow[0]?.values ?? []) as ReadonlyArray<string | null>
    return query.replace(/\$(\d+)\b/g, (m, n: string) => {
      const i = Number(n) - 1
      if (i < 0 || i >= values.length) return m
      const v = values[i]
      return `${v === null || v === undefined ? "NULL" : v}::${typeNames[i]}`
    })
  })
}

/**
 * The contents of a table as a Stream of chunks (COPY ... TO STDOUT; one chunk per row for
 * text and csv). Ending the stream early cancels the COPY; the connection stays usable.
 *
 * Errors: `PgServerError` (unknown table, ...), `PgInterfaceError` (invalid options),
 * `PgTimeoutError`, `PgConnectionError`; on a pool or client also `PgPoolError`.
 *
 * @example
 * ```ts
 * const csv = yield* PgCopy.streamFromTable(conn, "users", { format: "csv" }).pipe(
 *   Stream.decodeText, Stream.mkString)
 * ```
 * @since 0.1.0
 */
export const streamFromTable = (
  target: CopyTarget,
  table: string,
  options: StreamFromTableOptions = {},
): Stream.Stream<Uint8Array, PgQueryError | PgPoolError> =>
  streamOnConnection(target, (conn) =>
    Stream.unwrap(
      Effect.map(
        build(() => tableOutSql(table, options)),
        (sql) => copyOutStream(conn, sql, options.onProgress, undefined, options),
      ),
    ),
  )

/**
 * The result of `query` (with `args` inlined as typed literals, since COPY takes no parameters)
 * as a Stream of chunks. See {@link streamFromTable}.
 *
 * @example
 * ```ts
 * PgCopy.streamFromQuery(conn, "SELECT * FROM t WHERE id > $1", [10], { format: "csv" })
 * ```
 * @since 0.1.0
 */
export const streamFromQuery = (
  target: CopyTarget,
  query: string,
  args: ReadonlyArray<unknown> = [],
  options: StreamFromQueryOptions = {},
): Stream.Stream<Uint8Array, PgQueryError | PgPoolError> =>
  streamOnConnection(target, (conn) =>
    Stream.unwrap(
      Effect.flatMap(inlineArgs(conn, query, args), (inlined) =>
        Effect.map(
          build(() => copyOutSql(`(${inlined})`, options)),
          (sql) => copyOutStream(conn, sql, options.onProgress, undefined, options),
        ),
      ),
    ),
  )

/** Runs a COPY TO stream into `output`; returns the status. */
const drainTo = <E, R>(
  makeStream: (onStatus: (s: string) => void) => Stream.Stream<Uint8Array, PgQueryError>,
  output: CopyDestination<E, R>,
): Effect.Effect<string, PgQueryError | PgCopyFileError | E, R> =>
  Effect.suspend(() => {
    let status = ""
    const stream = makeStream((s) => {
      status = s
    })
    const run: Effect.Effect<void, PgQueryError | PgCopyFileError | E, R> =
      typeof output === "string"
        ? writeFile(stream, output)
        : Sink.isSink(output)
          ? Effect.asVoid(Stream.run(stream, output as Sink.Sink<unknown, Uint8Array, unknown, E, R>))
          : Stream.runForEachArray(stream, (chunks) =>
              Effect.suspend(() => {
                const f = output as (chunk: Uint8Array) => Effect.Effect<unknown, E, R> | void
                const effects: Array<Effect.Effect<unknown, E, R>> = []
                for (const c of chunks) {
                  const r = f(c)
                  if (Effect.isEffect(r)) effects.push(r)
                }
                return effects.length === 0 ? Effect.void : Effect.forEach(effects, (e) => e, { discard: true })
              }),
            )
    return Effect.as(
      run,
      Effect.sync(() => status),
    ).pipe(Effect.flatten)
  })

const fileError = (path: string, what: string, cause: unknown): PgCopyFileError =>
  new PgCopyFileError({
    message: `cannot ${what} ${path}: ${cause instanceof Error ? cause.message : String(cause)}`,
    path,
    cause,
  })

/** Writes the chunks to a file (created or truncated), one writev per batch. */
const writeFile = (
  stream: Stream.Stream<Uint8Array, PgQueryError>,
  path: string,
): Effect.Effect<void, PgQueryError | PgCopyFileError> =>
  Effect.acquireUseRelease(
    Effect.tryPromise({ try: () => fs.promises.open(path, "w"), catch: (e) => fileError(path, "open", e) }),
    (handle) =>
      Stream.runForEachArray(stream, (chunks) =>
        Effect.tryPromise({ try: () => handle.writev(chunks), catch: (e) => fileError(path, "write", e) }),
      ),
    (handle) => Effect.promise(() => handle.close().catch(() => undefined)),
  )

/**
 * Copies a table (or some of its columns) out with COPY ... TO STDOUT into `output`: a file
 * path, a `Sink`, or a callback. Returns the status, e.g. "COPY 100".
 *
 * Errors: `PgServerError`, `PgInterfaceError` (invalid options), `PgTimeoutError`,
 * `PgConnectionError`, `PgCopyFileError` (the file), the Sink's or callback's own errors; on a
 * pool or client also `PgPoolError`. A failing or interrupted output cancels the COPY.
 *
 * @example
 * ```ts
 * const status = yield* PgCopy.copyFromTable(conn, "mytable", {
 *   columns: ["foo", "bar"], output: "file.csv", format: "csv",
 * }) // "COPY 100"
 * ```
 * @since 0.1.0
 */
export const copyFromTable = <E = never, R = never>(
  target: CopyTarget,
  table: string,
  options: CopyFromTableOptions<E, R>,
): Effect.Effect<string, PgCopyError | E, R> =>
  onConnection(target, (conn) =>
    Effect.flatMap(
      build(() => tableOutSql(table, options)),
      (sql) => drainTo((onStatus) => copyOutStream(conn, sql, options.onProgress, onStatus, options), options.output),
    ),
  )

/**
 * Copies the result of `query` out into `output` (see {@link copyFromTable}); `args` are inlined
 * as typed literals, since COPY takes no parameters.
 *
 * @example
 * ```ts
 * const status = yield* PgCopy.copyFromQuery(conn, "SELECT foo, bar FROM mytable WHERE foo > $1", [10], {
 *   output: "file.csv", format: "csv",
 * }) // "COPY 10"
 * ```
 * @since 0.1.0
 */
export const copyFromQuery = <E = never, R = never>(
  target: CopyTarget,
  query: string,
  args: ReadonlyArray<unknown>,
  options: CopyFromQueryOptions<E, R>,
): Effect.Effect<string, PgCopyError | E, R> =>
  onConnection(target, (conn) =>
    Effect.flatMap(inlineArgs(conn, query, args), (inlined) =>
      Effect.flatMap(
        build(() => copyOutSql(`(${inlined})`, options)),
        (sql) => drainTo((onStatus) => copyOutStream(conn, sql, options.onProgress, onStatus, options), options.output),
      ),
    ),
  )

// ---------------------------------------------------------------------------------------------
// COPY ... FROM STDIN

/** Options of {@link copyToTable}. @since 0.1.0 */
export interface CopyToTableOptions<E> extends CopyOptions, CopyTableOptions, CopyCommonOptions {
  readonly source: CopySource<E>
  /** A condition rows must meet to be loaded (`COPY ... WHERE`, PostgreSQL 12+): raw SQL, not escaped. */
  readonly where?: string | undefined
}

const encoder = new TextEncoder()

const isHighSurrogate = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff

const loneSurrogate = (chunk: number, detail: string) =>
  new PgInterfaceError({
    message: `the copy source's chunk ${chunk} (from 0) ${detail}, which has no UTF-8 encoding; the COPY was aborted and nothing was loaded`,
  })

/**
 * The source's chunks as bytes: strings are encoded as UTF-8. A surrogate pair split across two
 * string chunks is kept whole; a lone surrogate (which TextEncoder would silently turn into
 * U+FFFD) fails the copy instead.
 */
const utf8Chunks = <E>(
  chunks: Stream.Stream<Uint8Array | string, E>,
): Stream.Stream<Uint8Array, E | PgInterfaceError> =>
  Stream.suspend(() => {
    let carried = "" // a high surrogate that ended the previous string chunk
    let index = -1
    const encode = (chunk: Uint8Array | string): Effect.Effect<Uint8Array, PgInterfaceError> => {
      index++
      if (typeof chunk !== "string") {
        return carried === ""
          ? Effect.succeed(chunk)
          : Effect.fail(loneSurrogate(index - 1, "ends with a high surrogate not followed by a low one"))
      }
      let text = carried + chunk
      carried = ""
      if (text.length > 0 && isHighSurrogate(text.charCodeAt(text.length - 1))) {
        carried = text.slice(-1)
        text = text.slice(0, -1)
      }
      if (!text.isWellFormed()) {
        return Effect.fail(loneSurrogate(index, "holds a lone surrogate"))
      }
      return Effect.succeed(encoder.encode(text))
    }
    const end = Stream.suspend(() =>
      carried === ""
        ? Stream.empty
        : Stream.fail(loneSurrogate(index, "ends the source with a high surrogate not followed by a low one")),
    )
    return Stream.concat(Stream.mapEffect(chunks, encode), end)
  })

const sourceStream = <E>(source: CopySource<E>): Stream.Stream<Uint8Array, E | PgCopyFileError | PgInterfaceError> => {
  if (typeof source === "string") {
    // Opened when the copy starts (a failure is a typed error), read 256 KiB at a time.
    return Stream.unwrap(
      Effect.map(
        Effect.tryPromise({ try: () => fs.promises.open(source, "r"), catch: (e) => fileError(source, "open", e) }),
        (handle) =>
          Stream.fromAsyncIterable(
            handle.createReadStream({ highWaterMark: 256 * 1024 }) as AsyncIterable<Uint8Array>,
            (e) => fileError(source, "read", e),
          ),
      ),
    )
  }
  if (Stream.isStream(source)) return utf8Chunks(source as Stream.Stream<Uint8Array | string, E>)
  if (Symbol.asyncIterator in (source as object)) {
    return utf8Chunks(Stream.fromAsyncIterable(source as AsyncIterable<Uint8Array | string>, (e) => e as E))
  }
  return utf8Chunks(Stream.fromIterable(source as Iterable<Uint8Array | string>))
}

/**
 * Copies data into a table with COPY ... FROM STDIN, from a file path, a `Stream` of chunks, or
 * an (async) iterable of chunks, in the format the options say (default text). Returns the
 * status, e.g. "COPY 140000".
 *
 * Errors: `PgServerError` (a bad line, a constraint: the server's detail and context name the
 * line), `PgInterfaceError` (invalid options, or a string chunk holding a lone surrogate, which
 * has no UTF-8 form), `PgTimeoutError`, `PgConnectionError`, `PgCopyFileError`, the source's own
 * errors (the COPY is aborted with CopyFail: nothing is loaded); on a pool or client also
 * `PgPoolError`. String chunks are encoded as UTF-8; a surrogate pair split across two chunks is
 * kept whole.
 *
 * @example
 * ```ts
 * const status = yield* PgCopy.copyToTable(conn, "mytable", { source: "datafile.tbl" }) // "COPY 140000"
 * yield* PgCopy.copyToTable(conn, "mytable", { source: ["1,foo\n", "2,bar\n"], format: "csv" })
 * ```
 * @since 0.1.0
 */
export const copyToTable = <E = never>(
  target: CopyTarget,
  table: string,
  options: CopyToTableOptions<E>,
): Effect.Effect<string, PgCopyError | E> =>
  onConnection(target, (conn) =>
    Effect.flatMap(
      build(() => copyInSql(tableTarget(table, options.schemaName, options.columns), options, options.where)),
      (sql) =>
        operation(
          conn,
          options.timeout,
          copyIn(conn, sql, produceChunks(sourceStream(options.source)), options.onProgress, false),
        ),
    ),
  )

/** Options of {@link copyRecordsToTable}. @since 0.1.0 */
export interface CopyRecordsOptions<E> extends CopyTableOptions, CopyCommonOptions {
  /**
   * The rows: an array, an iterable, an async iterable or a `Stream`; each row an array of values
   * in column order, or an object keyed by column name (missing keys are NULL).
   */
  readonly records:
    | Iterable<ReadonlyArray<unknown> | Readonly<Record<string, unknown>>>
    | AsyncIterable<ReadonlyArray<unknown> | Readonly<Record<string, unknown>>>
    | Stream.Stream<ReadonlyArray<unknown> | Readonly<Record<string, unknown>>, E>
  /** A condition rows must meet to be loaded (`COPY ... WHERE`, PostgreSQL 12+): raw SQL, not escaped. */
  readonly where?: string | undefined
}

/**
 * Copies rows into a table with binary COPY (asyncpg's `copy_records_to_table`): the columns'
 * types are looked up once and every value is encoded with the same codecs as query parameters,
 * in ~64 KiB CopyData frames. Returns the status, e.g. "COPY 2".
 *
 * Errors: `PgCopyRecordError` (a record or value that cannot be encoded: names the 0-based
 * record and the column; the COPY is aborted, nothing is loaded), `PgServerError` (a
 * constraint, ...), `PgInterfaceError` (a column type without binary codec), `PgTimeoutError`,
 * `PgConnectionError`, the records Stream's own errors; on a pool or client also `PgPoolError`.
 *
 * @example
 * ```ts
 * const status = yield* PgCopy.copyRecordsToTable(conn, "mytable", {
 *   records: [[1, "foo", "bar"], [2, "ham", "spam"]],
 * }) // "COPY 2"
 * ```
 * @since 0.1.0
 */
export const copyRecordsToTable = <E = never>(
  target: CopyTarget,
  table: string,
  options: CopyRecordsOptions<E>,
): Effect.Effect<string, PgCopyError | PgCopyRecordError | E> =>
  onConnection(target, (conn) =>
    Effect.gen(function* () {
      const columns = options.columns
      const from = yield* build(() => tableTarget(table, options.schemaName, undefined))
      const selectList = columns === undefined || columns.length === 0 ? "*" : columns.map(quoteIdent).join(", ")
      const sql = yield* build(() =>
        copyInSql(tableTarget(table, options.schemaName, columns), { format: "binary" }, options.where),
      )
      return yield* operation(
        conn,
        options.timeout,
        Effect.flatMap(describeColumns(conn, `SELECT ${selectList} FROM ${from} LIMIT 0`), (described) =>
          copyIn(
            conn,
            sql,
            produceRecords(described, options.records as Records) as (
              out: CopyOutput,
            ) => Effect.Effect<void, PgCopyRecordError | E>,
            options.onProgress,
            true,
          ),
        ),
      )
    }),
  )
