/**
 * `@pgfx/sql`: effect/sql's `SqlClient` on pgfx.
 * @since 0.1.0
 */
export * as PgSqlClient from "./PgSqlClient.ts"
