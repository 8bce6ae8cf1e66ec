/**
 * `@pgfx/protocol`: the PostgreSQL wire protocol as a pure codec (no sockets, no session state):
 * messages in both directions, the incremental reader, SCRAM-SHA-256 / MD5 arithmetic, and the
 * SQLSTATE table. Import modules by path (`@pgfx/protocol/Frontend`) or as namespaces from here.
 *
 * @since 0.1.0
 */
export * as Backend from "./Backend.ts"
export * as BackendEncoder from "./BackendEncoder.ts"
export * as ErrorFields from "./ErrorFields.ts"
export * as Frontend from "./Frontend.ts"
export * as FrontendDecoder from "./FrontendDecoder.ts"
export * as Md5 from "./Md5.ts"
export * as PgOutput from "./PgOutput.ts"
export * as Reader from "./Reader.ts"
export * as Replication from "./Replication.ts"
export * as SaslPrep from "./SaslPrep.ts"
export * as SaslPrepTables from "./SaslPrepTables.ts"
export * as Scram from "./Scram.ts"
export * as SqlState from "./SqlState.ts"
export * as Writer from "./Writer.ts"
