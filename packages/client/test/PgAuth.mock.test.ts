/**
 * Authentication plugins (`PgAuth`) against scripted servers: the GSSAPI message flow
 * (AuthenticationGSS / SSPI / GSSContinue answered with GSSResponse), a SASL mechanism from a
 * plugin, `requireAuth` and `channelBinding` interplay, typed failures, and the plugin's Scope
 * closed however authentication ends (success, failure, the connect timeout).
 */
import * as PgAuth from "@pgfx/client/PgAuth"
import * as PgConnection from "@pgfx/client/PgConnection"
import { PgAuthenticationError } from "@pgfx/client/PgError"
import { describe, expect, it } from "@effect/vitest"
import type { BackendMessage } from "@pgfx/protocol/Backend"
import * as FrontendDecoder from "@pgfx/protocol/FrontendDecoder"
import * as MockBackend from "@pgfx/testing/MockBackend"
import { Effect, Redacted } from "effect"
import { failureOf } from "../../../test/support/failure.ts"
import { eventually } from "../../../test/support/wait.ts"
import { connectTo } from "./support/MockServer.ts"

const bytes = (...b: Array<number>) => new Uint8Array(b)
const accepted = MockBackend.acceptUnauthenticatedConnection().slice(1)

/** A GSS plugin that records what it saw and answers each server token from `answers`. */
const recordingGss = (answers: ReadonlyArray<Uint8Array | undefined>) => {
  const seen: Array<Uint8Array | undefined> = []
  const contexts: Array<PgAuth.PgAuthContext> = []
  let closed = 0
  const plugin = PgAuth.gss({
    name: "test-gss",
    start: (context) =>
      Effect.gen(function* () {
        contexts.push(context)
        yield* Effect.addFinalizer(() => Effect.sync(() => closed++))
        return {
          step: (data) =>
            Effect.sync(() => {
              seen.push(data)
              return answers[seen.length - 1]
            }),
        }
      }),
  })
  return { plugin, seen, contexts, closed: () => closed }
}

describe("GSSAPI plugins", () => {
  it.live("AuthenticationGSS and GSSContinue are answered with the plugin's tokens; its Scope closes", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.expectTag("StartupMessage"),
        MockBackend.send({ _tag: "AuthenticationGSS" }),
        MockBackend.expectTag("AuthenticationResponse"),
        MockBackend.send({ _tag: "AuthenticationGSSContinue", data: bytes(9, 9) }),
        MockBackend.expectTag("AuthenticationResponse"),
        // the last token completes the client's context: nothing to send
        MockBackend.send({ _tag: "AuthenticationGSSContinue", data: bytes(8) }),
        MockBackend.wait(50),
        accepted,
      ])
      const gss = recordingGss([bytes(1, 2, 3), bytes(4), undefined])
      yield* Effect.scoped(
        connectTo(mock, { authPlugins: [gss.plugin], krbSrvName: "pgsrv", password: "pw", requireAuth: "gss" }),
      )
      yield* mock.result
      expect(gss.seen).toEqual([undefined, bytes(9, 9), bytes(8)])
      const responses = (yield* mock.received()).filter((m) => m._tag === "AuthenticationResponse")
      expect(responses.map((m) => FrontendDecoder.saslResponseOf(m))).toEqual([bytes(1, 2, 3), bytes(4)])
      expect(gss.closed()).toBe(1)
      const context = gss.contexts[0]!
      expect(context).toMatchObject({
        host: mock.host,
        port: mock.port,
        unixSocket: false,
        user: "u",
        krbSrvName: "pgsrv",
        request: "GSS",
      })
      expect(Redacted.isRedacted(context.password) && Redacted.value(context.password)).toBe("pw")
    }),
  )

  it.live("krbsrvname and gsslib come from the URL and the environment; the default service is postgres", () =>
    Effect.gen(function* () {
      const run = (extra: PgConnection.PgConnectionOptions) =>
        Effect.gen(function* () {
          const mock = yield* MockBackend.make([
            MockBackend.expectTag("StartupMessage"),
            MockBackend.send({ _tag: "AuthenticationGSS" }),
            MockBackend.expectTag("AuthenticationResponse"),
            accepted,
          ])
          const gss = recordingGss([bytes(1)])
          yield* Effect.scoped(connectTo(mock, { authPlugins: [gss.plugin], ...extra }))
          return gss.contexts[0]!
        })
      expect((yield* run({})).krbSrvName).toBe("postgres")
      const fromUrl = yield* run({ url: "postgres://h/d?krbsrvname=fromurl&gsslib=gssapi" })
      expect([fromUrl.krbSrvName, fromUrl.gssLib]).toEqual(["fromurl", "gssapi"])
      const fromEnv = yield* run({ environment: { PGKRBSRVNAME: "fromenv", PGGSSLIB: "sspi" } })
      expect([fromEnv.krbSrvName, fromEnv.gssLib]).toEqual(["fromenv", "sspi"])
    }),
  )

  it.live("AuthenticationSSPI is answered by the GSS plugin and counts as sspi for requireAuth", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.expectTag("StartupMessage"),
        MockBackend.send({ _tag: "AuthenticationSSPI" }),
        MockBackend.expectTag("AuthenticationResponse"),
        accepted,
      ])
      const gss = recordingGss([bytes(7)])
      yield* Effect.scoped(connectTo(mock, { authPlugins: [gss.plugin], requireAuth: "sspi" }))
      expect(gss.contexts[0]!.request).toBe("SSPI")
      const refusing = yield* MockBackend.make([
        MockBackend.expectTag("StartupMessage"),
        MockBackend.send({ _tag: "AuthenticationSSPI" }),
      ])
      const error = failureOf(
        yield* Effect.exit(connectTo(refusing, { authPlugins: [recordingGss([]).plugin], requireAuth: "gss" })),
      )
      expect(error).toMatchObject({ _tag: "PgAuthenticationError", method: "sspi" })
    }),
  )

  it.live("no plugin, requireAuth and channel binding: typed refusals before anything is sent", () =>
    Effect.gen(function* () {
      const refuse = (extra: PgConnection.PgConnectionOptions) =>
        Effect.gen(function* () {
          const mock = yield* MockBackend.make([
            MockBackend.expectTag("StartupMessage"),
            MockBackend.send({ _tag: "AuthenticationGSS" }),
          ])
          const error = failureOf(yield* Effect.exit(connectTo(mock, { password: "secret-pw", ...extra })))
          expect((yield* mock.received()).map((m) => m._tag)).toEqual(["StartupMessage"])
          expect(error.message).not.toContain("secret-pw")
          return error
        })
      const none = yield* refuse({})
      expect(none).toMatchObject({ _tag: "PgAuthenticationError", method: "gss" })
      expect(none.message).toContain("@pgfx/gssapi")
      const gss = recordingGss([bytes(1)])
      const scram = yield* refuse({ authPlugins: [gss.plugin], requireAuth: "scram-sha-256" })
      expect(scram).toMatchObject({ _tag: "PgAuthenticationError", method: "gss" })
      const bound = yield* refuse({ authPlugins: [gss.plugin], channelBinding: "require" })
      expect(bound).toMatchObject({ _tag: "PgAuthenticationError", method: "gss" })
      expect(gss.contexts).toEqual([])
    }),
  )

  it.live("requireAuth=gss refuses a password request", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.expectTag("StartupMessage"),
        MockBackend.send({ _tag: "AuthenticationCleartextPassword" }),
      ])
      const error = failureOf(
        yield* Effect.exit(
          connectTo(mock, { password: "pw", requireAuth: "gss", authPlugins: [recordingGss([]).plugin] }),
        ),
      )
      expect(error).toMatchObject({ _tag: "PgAuthenticationError", method: "password" })
    }),
  )

  it.live("a plugin's failure fails the attempt as it is; a defect is a typed error naming the plugin", () =>
    Effect.gen(function* () {
      let closed = 0
      const failing = (step: PgAuth.PgAuthExchange["step"]) =>
        PgAuth.gss({
          name: "broken",
          start: () =>
            Effect.as(
              Effect.addFinalizer(() => Effect.sync(() => closed++)),
              { step },
            ),
        })
      const run = (plugin: PgAuth.PgAuthPlugin) =>
        Effect.gen(function* () {
          const mock = yield* MockBackend.make([
            MockBackend.expectTag("StartupMessage"),
            MockBackend.send({ _tag: "AuthenticationGSS" }),
          ])
          return failureOf(yield* Effect.exit(connectTo(mock, { authPlugins: [plugin] })))
        })
      const own = new PgAuthenticationError({ message: "no ticket", method: "gss" })
      expect(yield* run(failing(() => Effect.fail(own)))).toBe(own)
      const defect = yield* run(failing(() => Effect.die(new Error("boom"))))
      expect(defect).toMatchObject({ _tag: "PgAuthenticationError", method: "gss" })
      expect(defect.message).toContain("broken")
      expect(closed).toBe(2)
    }),
  )

  it.live("a step that never answers ends with the connect timeout, and the plugin's Scope closes", () =>
    Effect.gen(function* () {
      let closed = 0
      const stuck = PgAuth.gss({
        name: "stuck",
        start: () =>
          Effect.as(
            Effect.addFinalizer(() => Effect.sync(() => closed++)),
            { step: () => Effect.never },
          ),
      })
      const mock = yield* MockBackend.make([
        MockBackend.expectTag("StartupMessage"),
        MockBackend.send({ _tag: "AuthenticationGSS" }),
        MockBackend.wait(5_000),
      ])
      const error = failureOf(
        yield* Effect.exit(connectTo(mock, { authPlugins: [stuck], connectTimeout: "300 millis" })),
      )
      expect(error).toMatchObject({ _tag: "PgConnectionError", reason: "ConnectTimeout" })
      yield* eventually("the plugin's scope is closed", () => closed === 1)
    }),
  )

  describe("the server's last token comes with AuthenticationOk (it does not wait for the client)", () => {
    const finalAndOk = (final: Uint8Array) => [
      MockBackend.expectTag("StartupMessage"),
      MockBackend.send({ _tag: "AuthenticationGSS" }),
      MockBackend.expectTag("AuthenticationResponse"),
      // one write: the final token, AuthenticationOk, ..., ReadyForQuery
      MockBackend.sendAll([{ _tag: "AuthenticationGSSContinue", data: final }]),
      accepted,
    ]
    /** A plugin whose steps take a while; the step for `fail` fails, the one for `more` answers. */
    const slow = (seen: Array<Uint8Array | undefined>) =>
      PgAuth.gss({
        name: "slow",
        start: () =>
          Effect.succeed({
            step: (data) =>
              Effect.sleep("100 millis").pipe(
                Effect.andThen(() => {
                  seen.push(data)
                  if (data === undefined) return Effect.succeed(bytes(1))
                  if (data[0] === 0xee) {
                    return Effect.fail(new PgAuthenticationError({ message: "bad mutual token", method: "gss" }))
                  }
                  return Effect.succeed(data[0] === 0xaa ? bytes(2) : undefined)
                }),
              ),
          }),
      })

    it.live("the startup ends once the last step succeeded", () =>
      Effect.gen(function* () {
        const mock = yield* MockBackend.make(finalAndOk(bytes(0x01)))
        const seen: Array<Uint8Array | undefined> = []
        const conn = yield* Effect.scoped(connectTo(mock, { authPlugins: [slow(seen)] }))
        expect(conn.serverPid).toBe(4242)
        expect(seen).toEqual([undefined, bytes(0x01)])
      }),
    )

    it.live("a last step that fails (mutual authentication) fails the connection, after ReadyForQuery too", () =>
      Effect.gen(function* () {
        const mock = yield* MockBackend.make(finalAndOk(bytes(0xee)))
        const error = failureOf(yield* Effect.exit(Effect.scoped(connectTo(mock, { authPlugins: [slow([])] }))))
        expect(error).toMatchObject({ _tag: "PgAuthenticationError", message: "bad mutual token" })
      }),
    )

    it.live("a last step that still has something to send: the server accepted too early", () =>
      Effect.gen(function* () {
        const mock = yield* MockBackend.make(finalAndOk(bytes(0xaa)))
        const error = failureOf(yield* Effect.exit(Effect.scoped(connectTo(mock, { authPlugins: [slow([])] }))))
        expect(error).toMatchObject({ _tag: "PgAuthenticationError", method: "gss" })
        expect(error.message).toContain("before the slow exchange completed")
      }),
    )
  })

  it.live("GSSContinue without a GSS exchange is a protocol error", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.expectTag("StartupMessage"),
        MockBackend.send({ _tag: "AuthenticationGSSContinue", data: bytes(1) }),
      ])
      const error = failureOf(yield* Effect.exit(connectTo(mock, { authPlugins: [recordingGss([]).plugin] })))
      expect(error._tag).toBe("PgProtocolError")
    }),
  )
})

describe("SASL plugins", () => {
  const script = (
    mechanisms: ReadonlyArray<string>,
  ): ReadonlyArray<MockBackend.Step | ReadonlyArray<MockBackend.Step>> => [
    MockBackend.expectTag("StartupMessage"),
    MockBackend.send({ _tag: "AuthenticationSASL", mechanisms }),
    MockBackend.expectTag("AuthenticationResponse"),
    MockBackend.send({ _tag: "AuthenticationSASLContinue", data: bytes(5) }),
    MockBackend.expectTag("AuthenticationResponse"),
    MockBackend.send({ _tag: "AuthenticationSASLFinal", data: bytes(6) } satisfies BackendMessage),
    MockBackend.wait(50),
    accepted,
  ]

  it.live("a plugin's mechanism is chosen over SCRAM when the server offers it; finish sees the final data", () =>
    Effect.gen(function* () {
      const finals: Array<Uint8Array> = []
      const plugin = PgAuth.sasl({
        name: "x-token",
        mechanism: "X-TOKEN",
        method: "oauth",
        start: () =>
          Effect.succeed({
            step: (data) => Effect.succeed(data === undefined ? undefined : bytes(data[0]! + 1)),
            finish: (data) => Effect.sync(() => void finals.push(data)),
          }),
      })
      const mock = yield* MockBackend.make(script(["SCRAM-SHA-256", "X-TOKEN"]))
      yield* Effect.scoped(connectTo(mock, { authPlugins: [plugin], password: "pw", requireAuth: "oauth" }))
      yield* mock.result
      const responses = (yield* mock.received()).filter((m) => m._tag === "AuthenticationResponse")
      // no initial response: length -1
      expect(FrontendDecoder.saslInitialResponseOf(responses[0]!)).toEqual({ mechanism: "X-TOKEN", data: null })
      expect(FrontendDecoder.saslResponseOf(responses[1]!)).toEqual(bytes(6))
      expect(finals).toEqual([bytes(6)])
    }),
  )
})
