/**
 * The checks `@pgfx/gssapi` makes before it asks GSSAPI anything: `gsslib=sspi` and a unix
 * socket are typed errors naming the reason. The exchange itself runs against a real KDC in
 * test/gssapi.test.ts.
 */
import type * as PgAuth from "@pgfx/client/PgAuth"
import { describe, expect, it } from "@effect/vitest"
import * as Gssapi from "@pgfx/gssapi/Gssapi"
import { Effect, Redacted } from "effect"

const context: PgAuth.PgAuthContext = {
  host: "db.example.com",
  port: 5432,
  unixSocket: false,
  user: "alice",
  krbSrvName: "postgres",
  gssLib: undefined,
  password: Redacted.make("not-a-kerberos-secret"),
  tls: false,
  request: "GSS",
}

const startFailure = (overrides: Partial<PgAuth.PgAuthContext>) =>
  Effect.scoped(Gssapi.plugin().start({ ...context, ...overrides })).pipe(Effect.flip)

describe("Gssapi.plugin", () => {
  it("is a GSS plugin", () => {
    expect(Gssapi.plugin()._tag).toBe("Gss")
  })

  it.effect("gsslib=sspi: UnsupportedLibrary", () =>
    Effect.gen(function* () {
      const error = yield* startFailure({ gssLib: "sspi" })
      expect(error).toMatchObject({ _tag: "PgAuthenticationError", method: "gss" })
      expect(error.cause).toBeInstanceOf(Gssapi.GssapiError)
      expect((error.cause as Gssapi.GssapiError).reason).toBe("UnsupportedLibrary")
    }),
  )

  it.effect("a unix socket has no host name: NoHostName; an SSPI request is reported as sspi", () =>
    Effect.gen(function* () {
      const error = yield* startFailure({ unixSocket: true, host: "/run/postgresql", request: "SSPI" })
      expect(error).toMatchObject({ _tag: "PgAuthenticationError", method: "sspi" })
      expect((error.cause as Gssapi.GssapiError).reason).toBe("NoHostName")
      expect(error.message).not.toContain("not-a-kerberos-secret")
    }),
  )
})
