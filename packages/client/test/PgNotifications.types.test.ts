/**
 * Type-level tests (checked by `tsc`): the notice log level and the query-log stream's options
 * accept what is documented and nothing else; each `@ts-expect-error` line must NOT compile.
 */
import { describe, expect, it } from "@effect/vitest"
import type { PgConnection } from "@pgfx/client/PgConnection"
import * as PgNotifications from "@pgfx/client/PgNotifications"
import { Context, Effect, Stream } from "effect"

/** Compile-time only: never called. */
const typed = (conn: PgConnection, program: Effect.Effect<void>) => {
  const log: Stream.Stream<PgNotifications.LoggedQuery, unknown> = conn.queryLog({
    bufferSize: 10,
    strategy: "dropping",
    redactArgs: true,
  })
  const closed: Effect.Effect<{ readonly _tag: "PgConnectionError" | "PgProtocolError" }, unknown> = conn.awaitClose()
  return [
    log,
    closed,
    // (the curried form fixes the service's type first, so the value is checked against it)
    Effect.provideService(PgNotifications.NoticeLogLevel)(program, "BySeverity"),
    Effect.provideService(PgNotifications.NoticeLogLevel)(program, "Warn"),
    Effect.provideService(PgNotifications.NoticeLogLevel)(program, "None"),
    // @ts-expect-error a query never waits for its log: no backpressure strategy
    conn.queryLog({ strategy: "suspend" }),
    // @ts-expect-error not a log level
    Effect.provideService(PgNotifications.NoticeLogLevel)(program, "Loud"),
    // @ts-expect-error "All" is a filter, not a level to log at
    Effect.provideService(PgNotifications.NoticeLogLevel)(program, "All"),
  ]
}
void typed

describe("NoticeLogLevel", () => {
  it("defaults to Debug", () => {
    expect(Context.get(Context.empty(), PgNotifications.NoticeLogLevel)).toBe("Debug")
  })
})
