/**
 * `@pgfx/client`: Effect-native PostgreSQL connections, the pool and the `PgClient` service.
 * Import modules by path (`@pgfx/client/PgClient`) or as namespaces from here.
 *
 * @since 0.1.0
 */
export * as PgAuth from "./PgAuth.ts"
export * as PgCheck from "./PgCheck.ts"
export * as PgClient from "./PgClient.ts"
export * as PgConfig from "./PgConfig.ts"
export * as PgConnection from "./PgConnection.ts"
export * as PgCopy from "./PgCopy.ts"
export * as PgCopyError from "./PgCopyError.ts"
export * as PgCurrentConnection from "./PgCurrentConnection.ts"
export * as PgCursor from "./PgCursor.ts"
export * as PgError from "./PgError.ts"
export * as PgListener from "./PgListener.ts"
export * as PgMetrics from "./PgMetrics.ts"
export * as PgNotifications from "./PgNotifications.ts"
export * as PgPool from "./PgPool.ts"
export * as PgQuery from "./PgQuery.ts"
export * as PgRecord from "./PgRecord.ts"
export * as PgReplication from "./PgReplication.ts"
export * as PgSchema from "./PgSchema.ts"
export * as PgSql from "./PgSql.ts"
export * as PgStatement from "./PgStatement.ts"
export * as PgTracing from "./PgTracing.ts"
export * as PgTransaction from "./PgTransaction.ts"
export * as ServerVersion from "./ServerVersion.ts"
