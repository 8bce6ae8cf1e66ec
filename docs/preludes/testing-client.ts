// Prelude for documentation fragments (test/docs.test.ts): docs/testing.md's imports, connection
// options and code under test written against PgClient.
import * as PgClient from "@pgfx/client/PgClient"
import { expect, it } from "@effect/vitest"
import * as TestTransaction from "@pgfx/testing/TestTransaction"
import { Effect, Option } from "effect"
declare const options: PgClient.PgClientOptions
declare const registerUser: (name: string) => Effect.Effect<unknown, PgClient.PgClientError, PgClient.PgClient>
