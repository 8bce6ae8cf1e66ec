// Prelude for documentation fragments (test/docs.test.ts): docs/testing.md's imports, connection
// options and the code under test of its first example.
import * as PgConnection from "@pgfx/client/PgConnection"
import type { PgQueryError } from "@pgfx/client/PgError"
import { expect, it } from "@effect/vitest"
import * as TestTransaction from "@pgfx/testing/TestTransaction"
import { Effect, Option } from "effect"
declare const options: PgConnection.PgConnectionOptions
declare const registerUser: (conn: PgConnection.PgConnection, name: string) => Effect.Effect<unknown, PgQueryError>
