/**
 * Change data capture: logical replication (the `pgoutput` plugin) as an Effect `Stream` of
 * committed changes, delivered at least once and resumed where the consumer left off.
 *
 * - {@link stream}: the changes of a slot, as a flat stream of events grouped by transaction —
 *   `Begin`, its `Insert` / `Update` / `Delete` / `Truncate` / transactional `Message` events,
 *   then `Commit` — in commit order. Non-transactional messages (`pg_logical_emit_message(false,
 *   ...)`) come on their own. Row values are decoded through the connection's codec registry
 *   (binary format where the server offers it, PostgreSQL 14+), so custom codecs apply.
 * - **Acknowledgement**: a `Commit` (and a non-transactional `Message`) carries `ack`; run it once
 *   the transaction is processed. The server learns the acknowledged position from status
 *   updates (every `statusInterval`, when it asks, and when the stream ends), and a slot only
 *   moves past what was acknowledged. After a dropped connection the stream reconnects (per
 *   `reconnect`) and resumes from there; a new stream on the same slot does the same. So nothing
 *   acknowledged is delivered again, and a transaction not acknowledged is delivered again
 *   (starting with its `Begin`).
 * - **Backpressure**: above `bufferSize` bytes of unread changes the socket stops being read; the
 *   server waits. Memory stays bounded by that buffer plus one batch, except for a transaction
 *   the server *streams* while it is still in progress (`streaming`, PostgreSQL 14+, for
 *   transactions larger than `logical_decoding_work_mem`): its changes are held until its commit.
 * - **Management**: {@link connect} opens a replication connection for IDENTIFY_SYSTEM and to
 *   create or drop slots; {@link listSlots}, {@link createPublication}, {@link dropPublication}
 *   and {@link listPublications} run SQL on an ordinary connection.
 *
 * The server needs `wal_level = logical` (`@pgfx/testing`'s `TempCluster` has a
 * `logicalReplication` option), and the user the `REPLICATION` attribute (or superuser).
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import * as PgReplication from "@pgfx/client/PgReplication"
 *
 * const program = PgReplication.stream({
 *   connection: "postgres://localhost/app",
 *   slot: "app_cdc",
 *   publications: ["app_pub"],
 * }).pipe(
 *   Stream.runForEach((change) =>
 *     change._tag === "Commit" ? change.ack : Effect.log(change._tag),
 *   ),
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Replication from "@pgfx/protocol/Replication"
import { Duration, Effect, Result, Schedule, type Scope, Stream } from "effect"
import * as PgConfig from "./PgConfig.ts"
import * as PgConnection from "./PgConnection.ts"
import {
  type PgConnectError,
  PgConnectionError,
  PgInterfaceError,
  type PgQueryError,
  PgReplicationError,
  PgServerError,
} from "./PgError.ts"
import { quoteIdentifier } from "./PgSql.ts"
import { coreOf } from "./internal/connection/Internals.ts"
import { ChangeDecoder, unchanged as unchangedValue } from "./internal/replication/ReplicationDecoder.ts"
import { command, openReplicationSession, quoteLiteral } from "./internal/replication/ReplicationSession.ts"
import {
  Attempt,
  decodeBatch,
  defaultReconnect,
  Progress,
  statusTicker,
} from "./internal/replication/ReplicationStream.ts"
import type { Session } from "./internal/wire/Session.ts"
import type { Change, Lsn, Unchanged } from "./internal/replication/Changes.ts"
export { PgReplicationError } from "./PgError.ts"
export type { Change, Lsn, Relation, Row, Unchanged } from "./internal/replication/Changes.ts"

/**
 * `"16/B374D848"` for `0x16B374D848n`.
 * @since 0.1.0
 */
export const formatLsn: (lsn: Lsn) => string = Replication.formatLsn

/**
 * Reads `"16/B374D848"`; `undefined` when the text is not an LSN.
 * @since 0.1.0
 */
export const parseLsn: (text: string) => Lsn | undefined = Replication.parseLsn

/** Every failure of a change stream. @since 0.1.0 */
export type PgReplicationStreamError = PgReplicationError | PgQueryError | PgConnectError | PgConfig.PgConfigError

/**
 * The value standing for an unchanged TOASTed column (compare with `===`).
 *
 * @example
 * ```ts
 * const body = change.row.body === PgReplication.unchanged ? cached.body : change.row.body
 * ```
 * @since 0.1.0
 */
export const unchanged: Unchanged = unchangedValue

/** Options of {@link stream}. @since 0.1.0 */
export interface StreamOptions {
  /** How to connect (the same options as `PgConnection.make`, including `codecs`). */
  readonly connection: PgConfig.PgConnectionOptions | string
  /** The replication slot (pgoutput). Create it with {@link connect} + `createSlot`, or set `temporarySlot`. */
  readonly slot: string
  /** The publications whose tables are streamed. */
  readonly publications: ReadonlyArray<string>
  /**
   * Creates the slot as a temporary slot on the stream's own connection (gone when the stream
   * ends). A temporary slot cannot survive a lost connection, so the stream then fails instead
   * of reconnecting. Default false.
   */
  readonly temporarySlot?: boolean | undefined
  /** Binary values (default: when the server supports it, PostgreSQL 14+). */
  readonly binary?: boolean | undefined
  /**
   * Stream large transactions while in progress (default: PostgreSQL 14+); they are delivered at
   * their commit. `"parallel"` (protocol 4, PostgreSQL 16+) asks for `streaming 'parallel'`, whose
   * Stream Abort also carries the abort's LSN and time; the delivery is the same.
   */
  readonly streaming?: boolean | "parallel" | undefined
  /** Include `pg_logical_emit_message` messages (default true). */
  readonly messages?: boolean | undefined
  /** pgoutput protocol version (default: the server's highest, 1 to 4). */
  readonly protocolVersion?: 1 | 2 | 3 | 4 | undefined
  /** How often the acknowledged position is reported (default 10 seconds, like pg_recvlogical). */
  readonly statusInterval?: Duration.Input | undefined
  /** Bytes of unread changes above which the socket stops being read (default 8 MiB). */
  readonly bufferSize?: number | undefined
  /**
   * When to reconnect after a lost connection (default: every second, up to 30 times in a row);
   * `false` to fail at once. The count restarts once changes flow again.
   */
  readonly reconnect?: Schedule.Schedule<unknown, PgReplicationStreamError> | false | undefined
}

const RETRYABLE_CLASSES = new Set(["08", "57"])

const isRetryable = (e: PgReplicationStreamError): boolean =>
  e instanceof PgConnectionError ||
  (e instanceof PgReplicationError && e.reason === "SlotInUse") ||
  (e instanceof PgServerError && RETRYABLE_CLASSES.has(e.code.slice(0, 2)))

/** The typed form of a server error a replication command can meet. */
const classify = <E>(e: E, slot: string | undefined): E | PgReplicationError => {
  if (!(e instanceof PgServerError)) return e
  const reason =
    e.code === "55006"
      ? "SlotInUse"
      : e.code === "42501"
        ? "PermissionDenied"
        : e.code === "42704" && slot !== undefined
          ? "SlotMissing"
          : e.code === "42710" && slot !== undefined
            ? "SlotExists"
            : undefined
  return reason === undefined ? e : new PgReplicationError({ reason, message: e.message, slot, cause: e })
}

const resolveConfig = (options: PgConfig.PgConnectionOptions | string) =>
  Effect.try({
    try: () => PgConfig.resolve(typeof options === "string" ? { url: options } : options),
    catch: (e) =>
      e instanceof PgConfig.PgConfigError
        ? e
        : new PgConfig.PgConfigError({ source: "options", key: "", message: String(e) }),
  })

const identifier = (name: string) =>
  Effect.try({
    try: () => quoteIdentifier(name),
    catch: (e) => (e instanceof PgInterfaceError ? e : new PgInterfaceError({ message: String(e) })),
  })

/** Opens a replication session, refusing a server without `wal_level = logical`. */
const openChecked = (config: PgConfig.ResolvedConfig) =>
  Effect.gen(function* () {
    const session = yield* Effect.mapError(openReplicationSession(config), (e) => classify(e, undefined))
    const level = yield* Effect.onError(command(session, "SHOW wal_level"), () =>
      Effect.sync(() => session.terminate()),
    )
    const value = level[0]?.rows[0]?.at(0)
    if (value !== "logical") {
      session.terminate()
      return yield* new PgReplicationError({
        reason: "WalLevel",
        message: `logical replication needs wal_level = logical; the server has ${String(value)}`,
      })
    }
    return session
  })

const serverMajor = (session: Session): number => parseInt(session.parameters.get("server_version") ?? "0", 10) || 0

/** The START_REPLICATION command for `options` on a server of version `major`. */
const startCommand = (options: StreamOptions, major: number, from: Lsn): Effect.Effect<string, PgInterfaceError> =>
  Effect.gen(function* () {
    const version = options.protocolVersion ?? (major >= 16 ? 4 : major >= 15 ? 3 : major >= 14 ? 2 : 1)
    const names: Array<string> = []
    for (const p of options.publications) names.push(yield* identifier(p))
    const opts: Array<[string, string]> = [
      ["proto_version", String(version)],
      ["publication_names", names.join(",")],
    ]
    if (options.binary ?? major >= 14) opts.push(["binary", "true"])
    if (options.messages ?? true) opts.push(["messages", "true"])
    const streaming = options.streaming ?? major >= 14
    if (streaming === "parallel" && version < 4) {
      return yield* new PgInterfaceError({ message: "streaming 'parallel' needs pgoutput protocol version 4" })
    }
    if (streaming !== false && version >= 2) opts.push(["streaming", streaming === "parallel" ? "parallel" : "on"])
    const slot = yield* identifier(options.slot)
    return `START_REPLICATION SLOT ${slot} LOGICAL ${formatLsn(from)} (${opts
      .map(([k, v]) => `${k} ${quoteLiteral(v)}`)
      .join(", ")})`
  })

/**
 * The changes of a logical replication slot as a Stream (see the module header for the delivery
 * guarantees). Opens a replication connection, plus an ordinary one on which column types the
 * codec registry does not know are looked up (enums, composites, domains...).
 *
 * Errors: `PgReplicationError` (`WalLevel`, `SlotMissing`, `SlotInUse` once reconnection gives
 * up, `PermissionDenied`), connection and server errors, `PgDecodeError` for a value a codec
 * refuses, `PgProtocolError` for a malformed message.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import * as PgReplication from "@pgfx/client/PgReplication"
 *
 * const program = PgReplication.stream({ connection: "postgres://localhost/app", slot: "s", publications: ["p"] }).pipe(
 *   Stream.runForEach((change) => {
 *     switch (change._tag) {
 *       case "Insert":
 *         return Effect.log(`${change.relation.name} +`, change.row)
 *       case "Commit":
 *         return change.ack
 *       default:
 *         return Effect.void
 *     }
 *   }),
 * )
 * ```
 * @since 0.1.0
 */
export const stream = (options: StreamOptions): Stream.Stream<Change, PgReplicationStreamError> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const config = yield* resolveConfig(options.connection)
      // The handle as it is: the scope keeps it (a debug-mode view is watched for leaks).
      const companion = coreOf(yield* PgConnection.make(options.connection))
      const progress = new Progress()
      const bufferBytes = options.bufferSize ?? 8 << 20
      // A batch waits up to 1 ms for this much (never more than what pauses the socket).
      const lingerBytes = Math.min(64 << 10, bufferBytes / 2)
      let attempt: Attempt | undefined
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          attempt?.close()
          attempt = undefined
        }),
      )
      yield* statusTicker(
        () => attempt,
        Duration.toMillis(Duration.fromInputUnsafe(options.statusInterval ?? "10 seconds")),
      )

      const open = Effect.gen(function* () {
        const session = yield* openChecked(config)
        const a = new Attempt(
          session,
          progress,
          new ChangeDecoder({
            registry: () => companion.cache.types.registry,
            unknownOids: (oids) => companion.cache.types.unknownOids(oids),
            ack: (lsn) => Effect.sync(() => progress.ack(lsn)),
            emitted: (lsn) => {
              if (lsn > progress.emittedEnd) progress.emittedEnd = lsn
            },
          }),
          bufferBytes,
        )
        const started = Effect.gen(function* () {
          if (options.temporarySlot === true) {
            const slot = yield* identifier(options.slot)
            yield* command(session, `CREATE_REPLICATION_SLOT ${slot} TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT`)
          }
          yield* a.start(yield* startCommand(options, serverMajor(session), progress.acked))
        })
        yield* Effect.onError(
          Effect.mapError(started, (e) => classify(e, options.slot)),
          () => Effect.sync(() => session.terminate()),
        )
        return a
      })

      const reconnect = options.temporarySlot === true ? false : (options.reconnect ?? defaultReconnect)
      let step: ((e: PgReplicationStreamError) => Effect.Effect<unknown, unknown>) | undefined
      const retryOrFail = (e: PgReplicationStreamError): Effect.Effect<void, PgReplicationStreamError> =>
        Effect.gen(function* () {
          if (reconnect === false || !isRetryable(e)) return yield* Effect.fail(e)
          if (step === undefined) step = yield* Schedule.toStepWithSleep(reconnect)
          yield* Effect.mapError(step(e), () => e)
        })

      const pull: Effect.Effect<readonly [Change, ...Array<Change>], PgReplicationStreamError> = Effect.gen(
        function* () {
          for (;;) {
            if (attempt === undefined) {
              const opened = yield* Effect.result(open)
              if (Result.isFailure(opened)) {
                yield* retryOrFail(opened.failure)
                continue
              }
              attempt = opened.success
            }
            const a = attempt
            const events = yield* Effect.onError(decodeBatch(a, companion, 4096), () =>
              Effect.sync(() => {
                a.close()
                attempt = undefined
              }),
            )
            if (events.length > 0) {
              step = undefined
              return events as unknown as readonly [Change, ...Array<Change>]
            }
            if (a.ended !== undefined) {
              a.close()
              attempt = undefined
              yield* retryOrFail(
                a.ended.error ??
                  new PgConnectionError({
                    reason: "ClosedByServer",
                    message: "the server ended the replication stream",
                  }),
              )
              continue
            }
            yield* a.waitForData
            yield* a.linger(lingerBytes, 1)
          }
        },
      )
      return Stream.fromPull(Effect.succeed(pull))
    }),
  )

/** What IDENTIFY_SYSTEM reports. @since 0.1.0 */
export interface SystemIdentification {
  /** The cluster's unique system identifier (a 64-bit number, as text). */
  readonly systemId: string
  readonly timeline: number
  /** The current WAL flush position. */
  readonly xlogPos: Lsn
  readonly database: string | null
}

/** A slot just created. @since 0.1.0 */
export interface CreatedSlot {
  readonly name: string
  /** The first LSN the slot will stream from. */
  readonly consistentPoint: Lsn
  readonly outputPlugin: string
}

/**
 * A replication connection (`replication=database`): replication commands, run one at a time.
 * @since 0.1.0
 * @category models
 */
export interface PgReplicationConnection {
  /** IDENTIFY_SYSTEM. */
  readonly identifySystem: Effect.Effect<SystemIdentification, PgReplicationStreamError>
  /**
   * CREATE_REPLICATION_SLOT for `pgoutput`. A temporary slot lives as long as this connection.
   * Errors: `PgReplicationError` `SlotExists`.
   */
  createSlot(
    name: string,
    options?: { readonly temporary?: boolean | undefined },
  ): Effect.Effect<CreatedSlot, PgReplicationStreamError>
  /**
   * DROP_REPLICATION_SLOT; `wait` waits for a connection streaming from it to end instead of
   * failing with `SlotInUse`. Errors: `PgReplicationError` `SlotMissing`, `SlotInUse`.
   */
  dropSlot(
    name: string,
    options?: { readonly wait?: boolean | undefined },
  ): Effect.Effect<void, PgReplicationStreamError>
}

const lsnOf = (value: unknown): Lsn => (typeof value === "string" ? (parseLsn(value) ?? 0n) : 0n)

/**
 * Opens a replication connection for slot management, closed with the scope. Refuses a server
 * without `wal_level = logical` (`PgReplicationError` `WalLevel`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as PgReplication from "@pgfx/client/PgReplication"
 *
 * const setup = Effect.scoped(
 *   Effect.gen(function* () {
 *     const repl = yield* PgReplication.connect("postgres://localhost/app")
 *     const slot = yield* repl.createSlot("app_cdc")
 *     yield* Effect.log(`streaming from ${PgReplication.formatLsn(slot.consistentPoint)}`)
 *   }),
 * )
 * ```
 * @since 0.1.0
 */
export const connect = (
  options: PgConfig.PgConnectionOptions | string,
): Effect.Effect<PgReplicationConnection, PgReplicationStreamError, Scope.Scope> =>
  Effect.gen(function* () {
    const config = yield* resolveConfig(options)
    const session = yield* Effect.acquireRelease(openChecked(config), (s) => Effect.sync(() => s.terminate()))
    const run = (sql: string, slot: string | undefined) =>
      Effect.mapError(command(session, sql), (e) => classify(e, slot))
    return {
      identifySystem: Effect.map(run("IDENTIFY_SYSTEM", undefined), (results) => {
        const row = results[0]?.rows[0]
        return {
          systemId: String(row?.at(0) ?? ""),
          timeline: Number(row?.at(1) ?? 0),
          xlogPos: lsnOf(row?.at(2)),
          database: (row?.at(3) as string | null | undefined) ?? null,
        }
      }),
      createSlot: (name, o) =>
        Effect.gen(function* () {
          const slot = yield* identifier(name)
          const temporary = o?.temporary === true ? " TEMPORARY" : ""
          const results = yield* run(
            `CREATE_REPLICATION_SLOT ${slot}${temporary} LOGICAL pgoutput NOEXPORT_SNAPSHOT`,
            name,
          )
          const row = results[0]?.rows[0]
          return { name, consistentPoint: lsnOf(row?.at(1)), outputPlugin: String(row?.at(3) ?? "pgoutput") }
        }),
      dropSlot: (name, o) =>
        Effect.gen(function* () {
          const slot = yield* identifier(name)
          yield* run(`DROP_REPLICATION_SLOT ${slot}${o?.wait === true ? " WAIT" : ""}`, name)
        }),
    }
  })

/** A row of `pg_replication_slots`. @since 0.1.0 */
export interface SlotInfo {
  readonly name: string
  readonly plugin: string | null
  readonly slotType: "logical" | "physical"
  readonly database: string | null
  readonly temporary: boolean
  readonly active: boolean
  readonly activePid: number | null
  /** Where a logical slot resumes: the last position a consumer acknowledged. */
  readonly confirmedFlushLsn: Lsn | null
  readonly restartLsn: Lsn | null
}

/**
 * The replication slots of the server (`pg_replication_slots`), on an ordinary connection.
 *
 * @example
 * ```ts
 * const slots = yield* PgReplication.listSlots(conn)
 * ```
 * @since 0.1.0
 */
export const listSlots = (conn: PgConnection.PgConnection): Effect.Effect<Array<SlotInfo>, PgQueryError> =>
  Effect.map(
    conn.fetch(
      "SELECT slot_name::text, plugin::text, slot_type, database::text, temporary, active, active_pid, " +
        "confirmed_flush_lsn::text, restart_lsn::text FROM pg_catalog.pg_replication_slots ORDER BY slot_name",
    ),
    (rows) =>
      rows.map((r) => ({
        name: r.at(0) as string,
        plugin: r.at(1) as string | null,
        slotType: r.at(2) as "logical" | "physical",
        database: r.at(3) as string | null,
        temporary: r.at(4) as boolean,
        active: r.at(5) as boolean,
        activePid: r.at(6) as number | null,
        confirmedFlushLsn: r.at(7) === null ? null : lsnOf(r.at(7)),
        restartLsn: r.at(8) === null ? null : lsnOf(r.at(8)),
      })),
  )

/** A table of a publication: a name in the search path, or schema-qualified. @since 0.1.0 */
export type PublicationTable = string | { readonly schema: string; readonly table: string }

/** Options of {@link createPublication}. @since 0.1.0 */
export interface PublicationOptions {
  /** The tables; omit with `allTables`. */
  readonly tables?: ReadonlyArray<PublicationTable> | undefined
  /** `FOR ALL TABLES`. */
  readonly allTables?: boolean | undefined
  /** The operations published (default all four). */
  readonly publish?: ReadonlyArray<"insert" | "update" | "delete" | "truncate"> | undefined
}

const tableName = (t: PublicationTable) =>
  typeof t === "string"
    ? identifier(t)
    : Effect.map(Effect.all([identifier(t.schema), identifier(t.table)]), ([s, n]) => `${s}.${n}`)

/**
 * CREATE PUBLICATION, with every name quoted as an identifier.
 *
 * @example
 * ```ts
 * yield* PgReplication.createPublication(conn, "app_pub", { tables: ["orders", { schema: "billing", table: "invoices" }] })
 * ```
 * @since 0.1.0
 */
export const createPublication = (
  conn: PgConnection.PgConnection,
  name: string,
  options: PublicationOptions,
): Effect.Effect<void, PgQueryError> =>
  Effect.gen(function* () {
    const pub = yield* identifier(name)
    let target = ""
    if (options.allTables === true) target = " FOR ALL TABLES"
    else if (options.tables !== undefined && options.tables.length > 0) {
      const tables: Array<string> = []
      for (const t of options.tables) tables.push(yield* tableName(t))
      target = ` FOR TABLE ${tables.join(", ")}`
    }
    const publish = options.publish === undefined ? "" : ` WITH (publish = ${quoteLiteral(options.publish.join(", "))})`
    yield* conn.execute(`CREATE PUBLICATION ${pub}${target}${publish}`)
  })

/**
 * DROP PUBLICATION (`ifExists`: no error when it does not exist).
 * @since 0.1.0
 */
export const dropPublication = (
  conn: PgConnection.PgConnection,
  name: string,
  options?: { readonly ifExists?: boolean | undefined },
): Effect.Effect<void, PgQueryError> =>
  Effect.flatMap(identifier(name), (pub) =>
    Effect.asVoid(conn.execute(`DROP PUBLICATION ${options?.ifExists === true ? "IF EXISTS " : ""}${pub}`)),
  )

/** A publication and its tables. @since 0.1.0 */
export interface PublicationInfo {
  readonly name: string
  readonly allTables: boolean
  readonly tables: ReadonlyArray<{ readonly schema: string; readonly table: string }>
}

/**
 * The publications of the current database with their tables (`pg_publication`,
 * `pg_publication_tables`).
 * @since 0.1.0
 */
export const listPublications = (
  conn: PgConnection.PgConnection,
): Effect.Effect<Array<PublicationInfo>, PgQueryError> =>
  Effect.map(
    conn.fetch(
      "SELECT p.pubname::text, p.puballtables, " +
        "coalesce(array_agg(t.schemaname::text ORDER BY t.schemaname, t.tablename) FILTER (WHERE t.tablename IS NOT NULL), '{}'), " +
        "coalesce(array_agg(t.tablename::text ORDER BY t.schemaname, t.tablename) FILTER (WHERE t.tablename IS NOT NULL), '{}') " +
        "FROM pg_catalog.pg_publication p LEFT JOIN pg_catalog.pg_publication_tables t ON t.pubname = p.pubname " +
        "GROUP BY p.pubname, p.puballtables ORDER BY p.pubname",
    ),
    (rows) =>
      rows.map((r) => {
        const schemas = r.at(2) as ReadonlyArray<string>
        const tables = r.at(3) as ReadonlyArray<string>
        return {
          name: r.at(0) as string,
          allTables: r.at(1) as boolean,
          tables: tables.map((table, i) => ({ schema: schemas[i]!, table })),
        }
      }),
  )
