/**
 * Explicitly prepared statements (`conn.prepare(sql)`): a named server-side statement (or, with
 * `namedStatements: false`, a kept description re-parsed as the unnamed statement each time)
 * bound to its connection, closed when its Scope closes.
 *
 * A statement invalidated by DDL is prepared again under the same name, transparently outside a
 * transaction; inside one it is a typed `PgInvalidCachedStatementError` (internal/query/Execute.ts).
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import { Effect, Option, type Scope, type Stream } from "effect"
import type {
  CursorOptions,
  ExplainOptions,
  FetchValOptions,
  QueryOptions,
  RowSchemaOptions,
  ValueSchemaOptions,
} from "../Options.ts"
import type { PgAttribute, PgCursor, PgStatement, PgType } from "../Handles.ts"
import { PgInterfaceError, type PgQueryError, type PgSchemaError, type PgTransactionError } from "../../PgError.ts"
import type { PgColumn, PgRecord } from "../../PgRecord.ts"
import { BatchHandler, writeBatch } from "./Batch.ts"
import type { ConnectionCore } from "../connection/Core.ts"
import * as Cursor from "./Cursor.ts"
import { executeWith, type StatementSource } from "./Execute.ts"
import type { Pick, PickError } from "./FastQuery.ts"
import type { Level } from "../wire/Gate.ts"
import { type Description, ExecuteHandler, type ExecuteResult, PrepareHandler } from "../wire/Handlers.ts"
import { Guarded, StreamMembers } from "../pool/Lease.ts"
import { makeStatementInfo, type StatementInfo, writeBindExecute } from "../wire/Statement.ts"
import { statementName } from "./StatementCache.ts"
import * as Transaction from "./Transaction.ts"
import { lookupTypes } from "./TypeInfo.ts"
import * as RowSchema from "./RowSchema.ts"

let statements = 0

/**
 * Close + Parse + Describe + Sync under `name`: the Close replaces a stale statement of that name,
 * or one prepared by another client behind a pooler (the same SQL: the name holds its digest).
 */
const describe = (
  conn: ConnectionCore,
  name: string,
  sql: string,
  level: Level | undefined,
): Effect.Effect<StatementInfo, PgQueryError> =>
  Effect.flatMap(
    conn.request<Description>(
      (w) => {
        conn.cache.writePendingCloses(w)
        if (name !== "") Frontend.close(w, "S", name)
        Frontend.parse(w, name, sql)
        Frontend.describe(w, "S", name)
        Frontend.sync(w)
      },
      (c) => new PrepareHandler(c, sql),
      level,
    ),
    (d) =>
      // Unknown parameter/column types are looked up (once per connection) before compiling.
      Effect.map(
        conn.cache.types.registryFor([...d.paramOids, ...d.fields.map((f) => f.typeOid)], (b, m) =>
          conn.request(b, m, level),
        ),
        (registry) => makeStatementInfo(name, sql, d.paramOids, d.fields, registry),
      ),
  )

const statementStreams: ReadonlySet<string> = new Set(["cursor"])

export class PreparedStatement implements PgStatement {
  /** Made on a pooled handle, it stops working with the handle's checkout (internal/pool/Lease.ts). */
  readonly [Guarded] = true
  get [StreamMembers](): ReadonlySet<string> {
    return statementStreams
  }
  readonly conn: ConnectionCore
  readonly sql: string
  info: StatementInfo
  stale = false
  closed = false
  statusMsg: string | undefined = undefined

  constructor(conn: ConnectionCore, info: StatementInfo) {
    this.conn = conn
    this.sql = info.sql
    this.info = info
  }

  /** Prepares `sql` on `conn`; the statement is closed when the scope closes. */
  static make(
    conn: ConnectionCore,
    sql: string,
    options?: QueryOptions,
  ): Effect.Effect<PgStatement, PgQueryError, Scope.Scope> {
    // Unique on this connection (each statement is closed on its own), and never different SQL.
    const name = conn.config.namedStatements ? statementName(`pgfx_s${++statements}_`, sql) : ""
    return Effect.acquireRelease(
      Effect.map(
        conn.withTimeout(describe(conn, name, sql, undefined), options),
        (info) => new PreparedStatement(conn, info),
      ),
      (stmt) => stmt.close,
    )
  }

  readonly source: StatementSource = ((stmt: PreparedStatement) => ({
    get sql() {
      return stmt.sql
    },
    prepare: (level: Level | undefined) => stmt.current(level),
    forget: () => {
      stmt.stale = true
    },
  }))(this)

  private current(level: Level | undefined): Effect.Effect<StatementInfo, PgQueryError> {
    if (this.closed) return Effect.fail(new PgInterfaceError({ message: "the prepared statement is closed" }))
    if (!this.stale) return Effect.succeed(this.info)
    return Effect.map(describe(this.conn, this.info.name, this.sql, level), (info) => {
      this.info = info
      this.stale = false
      return info
    })
  }

  get columns(): ReadonlyArray<PgColumn> {
    return this.info.columns
  }

  get parameterTypeOids(): ReadonlyArray<number> {
    return this.info.paramOids
  }

  getQuery(): string {
    return this.sql
  }

  getStatusMsg(): string | undefined {
    return this.statusMsg
  }

  getParameters(): Effect.Effect<ReadonlyArray<PgType>, PgQueryError> {
    return lookupTypes(this.conn, this.info.paramOids)
  }

  getAttributes(): Effect.Effect<ReadonlyArray<PgAttribute>, PgQueryError> {
    const columns = this.info.columns
    return Effect.map(
      lookupTypes(
        this.conn,
        columns.map((c) => c.typeOid),
      ),
      (types) => columns.map((c, i) => ({ name: c.name, type: types[i]! })),
    )
  }

  private run(
    args: ReadonlyArray<unknown>,
    maxRows: number,
    options: QueryOptions | undefined,
  ): Effect.Effect<ExecuteResult, PgQueryError> {
    return Effect.tap(
      this.conn.withTimeout(
        executeWith<ExecuteResult>(
          this.conn,
          this.source,
          (w, info) => {
            writeBindExecute(w, info, args, maxRows)
            Frontend.sync(w)
          },
          (c, info, onStale) => new ExecuteHandler(c, info, this.conn.cache.registry, onStale),
        ),
        options,
      ),
      (r) =>
        Effect.sync(() => {
          // A suspended portal (fetchRow / fetchVal stop after one row) reports no status.
          if (r.status !== "") this.statusMsg = r.status
        }),
    )
  }

  execute(args: ReadonlyArray<unknown> = [], options?: QueryOptions): Effect.Effect<string, PgQueryError> {
    return Effect.map(this.run(args, 0, options), (r) => r.status)
  }

  /** One run, its value made by `pick` (which may fail the call, see `FastQuery.Pick`). */
  private picked<A>(
    args: ReadonlyArray<unknown>,
    maxRows: number,
    options: QueryOptions | undefined,
    pick: Pick<A, PickError>,
  ): Effect.Effect<A, PgQueryError | PgSchemaError> {
    return Effect.flatMap(this.run(args, maxRows, options), (r) =>
      Effect.try({ try: () => pick(r), catch: (e) => e as PickError }),
    )
  }

  fetch<A>(
    args: ReadonlyArray<unknown> | undefined,
    options: RowSchemaOptions<A>,
  ): Effect.Effect<Array<A>, PgQueryError | PgSchemaError>
  fetch(args?: ReadonlyArray<unknown>, options?: QueryOptions): Effect.Effect<Array<PgRecord>, PgQueryError>
  fetch(
    args: ReadonlyArray<unknown> = [],
    options?: QueryOptions & RowSchema.WithSchema,
  ): Effect.Effect<ReadonlyArray<unknown>, PgQueryError | PgSchemaError> {
    return this.picked(args, 0, options, RowSchema.rows(this.sql, options))
  }

  fetchRow<A>(
    args: ReadonlyArray<unknown> | undefined,
    options: RowSchemaOptions<A>,
  ): Effect.Effect<Option.Option<A>, PgQueryError | PgSchemaError>
  fetchRow(args?: ReadonlyArray<unknown>, options?: QueryOptions): Effect.Effect<Option.Option<PgRecord>, PgQueryError>
  fetchRow(
    args: ReadonlyArray<unknown> = [],
    options?: QueryOptions & RowSchema.WithSchema,
  ): Effect.Effect<Option.Option<unknown>, PgQueryError | PgSchemaError> {
    return this.picked(args, 1, options, RowSchema.firstRow(this.sql, options))
  }

  fetchVal<A>(
    args: ReadonlyArray<unknown> | undefined,
    options: ValueSchemaOptions<A>,
  ): Effect.Effect<Option.Option<A>, PgQueryError | PgSchemaError>
  fetchVal(
    args?: ReadonlyArray<unknown>,
    options?: FetchValOptions,
  ): Effect.Effect<Option.Option<unknown>, PgQueryError>
  fetchVal(
    args: ReadonlyArray<unknown> = [],
    options?: FetchValOptions & RowSchema.WithSchema,
  ): Effect.Effect<Option.Option<unknown>, PgQueryError | PgSchemaError> {
    return this.picked(args, 1, options, RowSchema.value(this.sql, options))
  }

  private many(
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    collect: boolean,
    options: QueryOptions | undefined,
  ): Effect.Effect<Array<Array<PgRecord>>, PgQueryError> {
    if (argsList.length === 0) return Effect.succeed([])
    return this.conn.withTimeout(
      executeWith(
        this.conn,
        this.source,
        (w, info) => writeBatch(w, info, argsList),
        (c, info, onStale) => new BatchHandler(c, info, this.conn.cache.registry, onStale, collect),
      ),
      options,
    )
  }

  executeMany(
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: QueryOptions,
  ): Effect.Effect<void, PgQueryError> {
    return Effect.asVoid(this.many(argsList, false, options))
  }

  fetchMany(
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: QueryOptions,
  ): Effect.Effect<Array<Array<PgRecord>>, PgQueryError> {
    return this.many(argsList, true, options)
  }

  cursor(args: ReadonlyArray<unknown> = [], options?: CursorOptions): Stream.Stream<PgRecord, PgQueryError> {
    return Cursor.stream(this.conn, this.source, args, options)
  }

  openCursor(
    args: ReadonlyArray<unknown> = [],
    options?: QueryOptions,
  ): Effect.Effect<PgCursor, PgQueryError, Scope.Scope> {
    return Cursor.open(this.conn, this.source, args, options)
  }

  explain(
    args: ReadonlyArray<unknown> = [],
    options?: ExplainOptions,
  ): Effect.Effect<unknown, PgQueryError | PgTransactionError> {
    const analyze = options?.analyze === true
    const sql = `EXPLAIN (FORMAT JSON, VERBOSE${analyze ? ", ANALYZE" : ""}) ${this.sql}`
    const plan = Effect.map(this.conn.fetchVal(sql, args, options), (row) => {
      const v = Option.getOrNull(row)
      return typeof v === "string" ? JSON.parse(v) : v
    })
    // ANALYZE runs the statement: do it in a transaction (or savepoint) that is always rolled back.
    return analyze ? Transaction.transaction(this.conn, plan, { rollbackOnly: true }) : plan
  }

  /**
   * Closes the server-side statement: it is queued and closed in the same batch as the next
   * statement preparation on this connection (no round trip, and no waiting for a transaction
   * that holds the connection).
   */
  readonly close: Effect.Effect<void> = Effect.sync(() => {
    if (this.closed) return
    this.closed = true
    if (this.info.name !== "" && !this.conn.session.closed) this.conn.cache.pendingClose.push(this.info.name)
  })
}
