// Prelude for documentation fragments (test/docs.test.ts): a connection, and two more to copy
// between.
declare const conn: import("@pgfx/client/PgConnection").PgConnection
declare const source: import("@pgfx/client/PgConnection").PgConnection
declare const target: import("@pgfx/client/PgConnection").PgConnection
