// Prelude for documentation fragments (test/docs.test.ts): connection options from somewhere.
declare const options: import("@pgfx/client/PgConnection").PgConnectionOptions
