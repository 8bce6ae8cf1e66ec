/**
 * GSSAPI (Kerberos) authentication for pgfx on Linux and macOS: an authentication plugin
 * (`@pgfx/client/PgAuth`) over the system's GSSAPI library, through the `kerberos` native binding
 * (built from source at install: it needs a C++ compiler and the Kerberos headers, Debian's
 * `libkrb5-dev`, macOS's system framework).
 *
 * It answers the server's `AuthenticationGSS` (a `gss` line of `pg_hba.conf`) as libpq does: the
 * server is named `<krbsrvname>@<host>` (a host-based service, so the Kerberos principal is
 * `postgres/<host>@REALM` by default), the client's credentials come from the credentials cache
 * (`kinit`, `KRB5CCNAME`), and mutual authentication is requested.
 *
 * **Settings** (of the connection, read from every source as libpq reads them):
 *
 * | option | keyword | environment | meaning |
 * | --- | --- | --- | --- |
 * | `krbSrvName` | `krbsrvname` | `PGKRBSRVNAME` | the service name (default `postgres`) |
 * | `gssLib` | `gsslib` | `PGGSSLIB` | `gssapi` (default); `sspi` is Windows-only and refused |
 *
 * **Errors.** Every failure is the connection attempt's `PgAuthenticationError` (method `gss`),
 * whose `cause` is a {@link GssapiError} with a `reason`:
 *
 * - `NoCredentials`: no ticket (no credentials cache, an empty or expired one): run `kinit`;
 * - `UnknownServer`: the KDC does not know the service principal (a wrong `krbsrvname` or host);
 * - `NoHostName`: the connection goes through a unix socket, which has no host name to name the
 *   server by;
 * - `UnsupportedLibrary`: `gsslib=sspi`;
 * - `LibraryUnavailable`: the `kerberos` binding could not be loaded (its native build failed);
 * - `Failed`: anything else GSSAPI reports.
 *
 * A server that refuses the authenticated principal (`pg_ident.conf`, a user other than the
 * principal's) answers with an error of its own: `PgServerError` with SQLSTATE 28000.
 *
 * Messages name principals and hosts, never tickets or passwords.
 *
 * @example
 * ```ts
 * import * as PgClient from "@pgfx/client/PgClient"
 * import * as Gssapi from "@pgfx/gssapi/Gssapi"
 *
 * // `kinit alice@EXAMPLE.COM` beforehand; the server's keytab holds postgres/db.example.com
 * const ClientLive = PgClient.layer({
 *   url: "postgres://alice@db.example.com/app",
 *   authPlugins: [Gssapi.plugin()],
 *   requireAuth: "gss",
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as PgAuth from "@pgfx/client/PgAuth"
import { PgAuthenticationError } from "@pgfx/client/PgError"
import { Data, Effect } from "effect"
import { Buffer } from "node:buffer"

/** Why GSSAPI authentication could not go on. @since 0.1.0 */
export type GssapiErrorReason =
  "NoCredentials" | "UnknownServer" | "NoHostName" | "UnsupportedLibrary" | "LibraryUnavailable" | "Failed"

/**
 * A GSSAPI failure, the `cause` of the connection attempt's `PgAuthenticationError`.
 * @since 0.1.0
 */
export class GssapiError extends Data.TaggedError("GssapiError")<{
  readonly reason: GssapiErrorReason
  readonly message: string
  readonly cause?: unknown
}> {}

/** Options of {@link plugin}. @since 0.1.0 */
export interface GssapiOptions {
  /**
   * The client principal whose credentials to use (`alice@EXAMPLE.COM`); default: the
   * credentials cache's default principal.
   */
  readonly principal?: string | undefined
}

// GSSAPI's flag for mutual authentication (RFC 2744), as libpq asks for it.
const GSS_C_MUTUAL_FLAG = 2
// The default mechanism (Kerberos), as libpq uses it.
const GSS_C_NO_OID = 0

/**
 * The reason of a message from GSSAPI (MIT Kerberos or Heimdal): the binding reports only the
 * texts of the major and minor status codes, which are fixed strings of the libraries.
 */
const reasonOf = (message: string): GssapiErrorReason => {
  if (
    /No credentials were supplied|No Kerberos credentials available|No credentials cache|credentials cache .*not found|Ticket expired|Credentials cache file .* not found/i.test(
      message,
    )
  ) {
    return "NoCredentials"
  }
  if (/not found in Kerberos database|Server .* unknown|Server not found/i.test(message)) return "UnknownServer"
  return "Failed"
}

const failure = (context: PgAuth.PgAuthContext, error: GssapiError) =>
  new PgAuthenticationError({
    message: `GSSAPI authentication for ${context.krbSrvName}@${context.host}: ${error.message}`,
    method: context.request === "SSPI" ? "sspi" : "gss",
    cause: error,
  })

const gssFailure = (context: PgAuth.PgAuthContext, cause: unknown) => {
  const message = cause instanceof Error ? cause.message : String(cause)
  return failure(context, new GssapiError({ reason: reasonOf(message), message, cause }))
}

const start = (
  context: PgAuth.PgAuthContext,
  options: GssapiOptions,
): Effect.Effect<PgAuth.PgAuthExchange, PgAuthenticationError> =>
  Effect.gen(function* () {
    if (context.gssLib === "sspi") {
      return yield* Effect.fail(
        failure(
          context,
          new GssapiError({
            reason: "UnsupportedLibrary",
            message: "gsslib=sspi names Windows' SSPI; @pgfx/gssapi speaks GSSAPI (gsslib=gssapi)",
          }),
        ),
      )
    }
    if (context.unixSocket) {
      return yield* Effect.fail(
        failure(
          context,
          new GssapiError({
            reason: "NoHostName",
            message: `GSSAPI names the server by its host name, and ${context.host} is a unix socket directory: connect over TCP with the server's host name`,
          }),
        ),
      )
    }
    const kerberos = yield* Effect.tryPromise({
      try: () => import("kerberos"),
      catch: (cause) =>
        failure(
          context,
          new GssapiError({
            reason: "LibraryUnavailable",
            message: `the kerberos native binding could not be loaded (it is built from source at install and needs the Kerberos headers, e.g. Debian's libkrb5-dev): ${cause instanceof Error ? cause.message : String(cause)}`,
            cause,
          }),
        ),
    })
    const client = yield* Effect.tryPromise({
      try: () =>
        kerberos.initializeClient(`${context.krbSrvName}@${context.host}`, {
          gssFlag: GSS_C_MUTUAL_FLAG,
          mechOID: GSS_C_NO_OID,
          ...(options.principal === undefined ? {} : { principal: options.principal }),
        }),
      catch: (cause) => gssFailure(context, cause),
    })
    return {
      step: (serverData) =>
        Effect.tryPromise({
          try: () => client.step(serverData === undefined ? "" : Buffer.from(serverData).toString("base64")),
          catch: (cause) => gssFailure(context, cause),
        }).pipe(Effect.map((token) => (token === "" || token == null ? undefined : Buffer.from(token, "base64")))),
    }
  })

/**
 * The GSSAPI authentication plugin, for a connection's `authPlugins`.
 *
 * @example
 * ```ts
 * import * as PgConnection from "@pgfx/client/PgConnection"
 * import * as Gssapi from "@pgfx/gssapi/Gssapi"
 *
 * const conn = PgConnection.connect({
 *   host: "db.example.com",
 *   user: "alice",
 *   krbSrvName: "postgres",
 *   authPlugins: [Gssapi.plugin()],
 * })
 * ```
 * @since 0.1.0
 */
export const plugin = (options: GssapiOptions = {}): PgAuth.PgGssPlugin =>
  PgAuth.gss({ name: "@pgfx/gssapi", start: (context) => start(context, options) })
