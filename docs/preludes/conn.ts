// Prelude for documentation fragments (test/docs.test.ts): an open connection.
declare const conn: import("@pgfx/client/PgConnection").PgConnection
