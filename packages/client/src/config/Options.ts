/**
 * The option types of a connection (`PgConnectionOptions` and the settings it names): a leaf
 * module, so every part of the client can name them without importing `PgConfig`. `PgConfig`
 * re-exports them.
 */
import type { CodecRegistry } from "@pgfx/types/CodecRegistry"
import type { Duration, Effect, Redacted } from "effect"
import type * as tls from "node:tls"
import type { AuthMethodName, PgAuthPlugin } from "../PgAuth.ts"

/** libpq's `sslmode`. @since 0.1.0 */
export type SslMode = "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full"

/** libpq's `target_session_attrs`. @since 0.1.0 */
export type TargetSessionAttrs = "any" | "read-write" | "read-only" | "primary" | "standby" | "prefer-standby"

/** A TLS protocol version bound (`ssl_min_protocol_version`, `ssl_max_protocol_version`). @since 0.1.0 */
export type TlsProtocolVersion = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3"

/**
 * A password: text, a `Redacted` (kept out of logs), or an Effect evaluated on every connection
 * attempt (rotating tokens such as cloud IAM tokens). A failing Effect fails the attempt with
 * `PgAuthenticationError`.
 * @since 0.1.0
 */
export type PasswordInput =
  string | Redacted.Redacted<string> | Effect.Effect<string | Redacted.Redacted<string>, unknown>

/**
 * Debug mode settings (the `debug` option; `PGFX_DEBUG=1` turns on the defaults,
 * `PGFX_DEBUG=values` also shows values). Every part is on unless set to `false`.
 * @since 0.1.0
 */
export interface PgDebugOptions {
  /** A line per protocol message, both ways (libpq's PQtrace). */
  readonly trace?: boolean | undefined
  /**
   * Show parameter values, row values, COPY data and notification payloads in the trace
   * (default false: their sizes). Authentication messages are never shown.
   */
  readonly showValues?: boolean | undefined
  /** Validate every protocol message in full, both ways (closes the session on a malformed one). */
  readonly checks?: boolean | undefined
  /** Report connections and pool checkouts garbage-collected while still open. */
  readonly leaks?: boolean | undefined
  /** Where the lines go (default: standard error). */
  readonly log?: ((line: string) => void) | undefined
}

/**
 * Options of a connection. Everything is optional; see the module documentation for the other
 * sources and their precedence. libpq keyword names are given in brackets.
 * @since 0.1.0
 */
export interface PgConnectionOptions {
  /**
   * A `postgres://` / `postgresql://` URI or a keyword/value string (`host=db port=5432`).
   * Explicit options override its parts.
   */
  readonly url?: string | undefined
  /**
   * Host name, IP address, or absolute path of a unix socket directory (`<dir>/.s.PGSQL.<port>`);
   * several hosts as an array or a comma-separated string are tried in order [host].
   */
  readonly host?: string | ReadonlyArray<string> | undefined
  /** Port, or one port per host [port]. Default 5432. */
  readonly port?: number | ReadonlyArray<number> | undefined
  /** Role name [user]. Default: the OS user. */
  readonly user?: string | undefined
  /** The password [password]; see {@link PasswordInput}. */
  readonly password?: PasswordInput | undefined
  /** Password file [passfile]. Default `~/.pgpass`. */
  readonly passFile?: string | undefined
  /** Database name [dbname]. Default: the user name. */
  readonly database?: string | undefined
  /** A section of the connection service file [service]. */
  readonly service?: string | undefined
  /** The user's connection service file [servicefile]. Default `~/.pg_service.conf`. */
  readonly serviceFile?: string | undefined
  /** `application_name` reported to the server [application_name]. */
  readonly applicationName?: string | undefined
  /** `application_name` when none is set anywhere else [fallback_application_name]. */
  readonly fallbackApplicationName?: string | undefined
  /** Command-line options sent to the server, e.g. `-c search_path=app` [options]. */
  readonly commandLineOptions?: string | undefined
  /** Server settings sent at startup (e.g. `{ search_path: "app" }`). */
  readonly serverSettings?: Readonly<Record<string, string>> | undefined
  /**
   * Bound on each host's connection attempt: TCP, TLS, authentication and the
   * target_session_attrs check [connect_timeout]. Default 60 seconds; `"Infinity"` waits forever.
   */
  readonly connectTimeout?: Duration.Input | undefined
  /** Default bound on every query of the connection (a per-call `timeout` overrides it). */
  readonly commandTimeout?: Duration.Input | undefined
  /**
   * The grace an interrupted statement gets (a timeout, fiber interruption, a closed scope):
   * pgfx sends a cancel request and waits this long for the server to end the statement; past
   * it, the connection is closed (and a pool's slot freed), so every operation settles within
   * its timeout plus this grace whatever the server or the network does (default 1 second). The
   * cancel request's own connection is bounded by `connectTimeout`.
   */
  readonly cancelTimeout?: Duration.Input | undefined
  /** The codecs this connection uses (default: the built-ins). */
  readonly codecs?: CodecRegistry | undefined
  /** Prepared statements kept per connection for repeated SQL (default 256; 0 disables). */
  readonly statementCacheSize?: number | undefined
  /** How long a cached statement may be reused before it is prepared again (default 300 seconds; 0: forever). */
  readonly maxCachedStatementLifetime?: Duration.Input | undefined
  /** SQL longer than this many bytes (UTF-8) is never cached (default 15360). */
  readonly maxCacheableStatementSize?: number | undefined
  /**
   * `false`: no named statements are created; every query re-sends Parse for the unnamed
   * statement, and only the statement descriptions are cached (default true). Not needed behind
   * PgBouncer or pgpool-II: named statements are safe there (their names are digests of their
   * SQL, and a statement missing on a pooler's server connection is re-created; see
   * docs/poolers.md), but `false` avoids even the first misses while a pooler warms up.
   */
  readonly namedStatements?: boolean | undefined
  /** `false` sends one request at a time instead of pipelining concurrent queries (default true). */
  readonly pipelining?: boolean | undefined
  /**
   * Largest backend message read in bytes (default 1 GiB, PostgreSQL's own limit on a value, so
   * every legal value is readable). A row or COPY chunk over it fails its query with
   * `PgLimitError` (kind `message`) and is discarded as it arrives, never held; the connection
   * stays usable. An error or notice over it keeps its first 64 KiB (at most this). At least 1024.
   */
  readonly maxMessageSize?: number | undefined
  /**
   * Most rows one reply may carry (default: no limit). A query (`fetch`, a prepared statement,
   * an `executeMany` batch as a whole, one cursor fetch, a simple query) whose reply has more fails
   * with `PgLimitError` (kind `rows`); the rest is read and discarded, and the connection stays
   * usable. The statement is not cancelled: it runs to its end on the server.
   */
  readonly maxResultRows?: number | undefined
  /**
   * Most bytes of rows (DataRow bodies, as sent by the server) or COPY TO data one reply may
   * carry (default: no limit). Over it: `PgLimitError` (kind `bytes`), the rest is read and
   * discarded, the connection stays usable.
   */
  readonly maxResultBytes?: number | undefined
  /**
   * Protocol version asked for at startup [max_protocol_version]: "3.0" (default, as in libpq
   * 18: poolers such as PgBouncer before 1.19 reject anything else) or "3.2" (PostgreSQL 18's
   * 32-byte cancel keys). A server that rejects a 3.2 startup outright is asked again with 3.0,
   * unless `minProtocolVersion` forbids it.
   */
  readonly protocolVersion?: "3.0" | "3.2" | undefined
  /** Refuse a server that negotiates a lower protocol version (default "3.0") [min_protocol_version]. */
  readonly minProtocolVersion?: "3.0" | "3.2" | "latest" | undefined
  /**
   * Only accept these authentication methods [require_auth]: a list (`["scram-sha-256"]`,
   * `"scram-sha-256,md5"`) or its negation (`"!password,!md5"`); `none` allows no
   * authentication at all (trust, or a client certificate).
   */
  readonly requireAuth?: string | ReadonlyArray<AuthMethodName | `!${AuthMethodName}`> | undefined
  /** SCRAM channel binding [channel_binding]: disable, prefer (default), require. */
  readonly channelBinding?: "disable" | "prefer" | "require" | undefined
  /**
   * Authentication mechanisms beyond the built-in ones (see `PgAuth`), e.g. GSSAPI from
   * `@pgfx/gssapi`: `authPlugins: [Gssapi.plugin()]`.
   */
  readonly authPlugins?: ReadonlyArray<PgAuthPlugin> | undefined
  /** The Kerberos service name of the server (default `postgres`) [krbsrvname]. */
  readonly krbSrvName?: string | undefined
  /** The GSS library: `gssapi` (`sspi` exists only on Windows) [gsslib]. */
  readonly gssLib?: "gssapi" | "sspi" | undefined
  /** TLS mode with libpq's meanings [sslmode]. Default `prefer`. */
  readonly sslMode?: SslMode | undefined
  /** `postgres` (SSLRequest, default) or `direct` (TLS at once, ALPN `postgresql`; PostgreSQL 17+) [sslnegotiation]. */
  readonly sslNegotiation?: "postgres" | "direct" | undefined
  /** CA file to verify the server with, or `system` for the system's trusted roots [sslrootcert]. Default `~/.postgresql/root.crt`. */
  readonly sslRootCert?: string | undefined
  /** Client certificate file [sslcert]. Default `~/.postgresql/postgresql.crt` when it exists. */
  readonly sslCert?: string | undefined
  /** Client key file [sslkey]. Default `~/.postgresql/postgresql.key` when it exists. */
  readonly sslKey?: string | undefined
  /** Passphrase of the client key [sslpassword]. */
  readonly sslPassword?: string | Redacted.Redacted<string> | undefined
  /** Certificate revocation list file [sslcrl]. Default `~/.postgresql/root.crl` when it exists. */
  readonly sslCrl?: string | undefined
  /** Send the host name as TLS SNI (default true) [sslsni]. */
  readonly sslSni?: boolean | undefined
  /** `disable` never sends a client certificate; `allow` (default) sends one when configured [sslcertmode]. */
  readonly sslCertMode?: "disable" | "allow" | undefined
  /** Lowest TLS version (default TLSv1.2) [ssl_min_protocol_version]. */
  readonly sslMinProtocolVersion?: TlsProtocolVersion | undefined
  /** Highest TLS version [ssl_max_protocol_version]. */
  readonly sslMaxProtocolVersion?: TlsProtocolVersion | undefined
  /**
   * asyncpg's `ssl`: `false` is `sslMode: "disable"`; `true` or a Node `tls.ConnectionOptions`
   * object requires TLS verified by Node's rules (the system CAs and the host name) unless the
   * object says otherwise. The object is applied over what the ssl* settings produce.
   */
  readonly ssl?: boolean | tls.ConnectionOptions | undefined
  /** Which server is acceptable [target_session_attrs]. Default `any`. */
  readonly targetSessionAttrs?: TargetSessionAttrs | undefined
  /** `random` shuffles the hosts before trying them [load_balance_hosts]. Default `disable`. */
  readonly loadBalanceHosts?: "disable" | "random" | undefined
  /**
   * TCP keepalive (default true, as in libpq) [keepalives]: a peer that vanished without closing
   * the connection (host down, cable cut) is detected on an idle connection after the idle time
   * plus the probes (on Linux with the system defaults: about 2 hours 11 minutes; see
   * docs/reliability.md). Per-query timeouts and `cancelTimeout` bound waits much sooner.
   */
  readonly keepAlive?: boolean | undefined
  /** Idle time before the first keepalive probe [keepalives_idle]. Default: the system's (7200 s on Linux). */
  readonly keepAliveIdle?: Duration.Input | undefined
  /**
   * Debug mode, for when something is wrong (default off, or `PGFX_DEBUG` from the environment):
   * a protocol trace of every message both ways with values redacted, full validation of every
   * message, and reports of connections leaked without being closed. `true` turns everything on;
   * see {@link PgDebugOptions}. Costly: never in production.
   */
  readonly debug?: boolean | PgDebugOptions | undefined
  /**
   * The environment variables to read (default `process.env`); `{}` ignores the environment.
   * `HOME` in it locates `~/.pgpass` and friends.
   */
  readonly environment?: Readonly<Record<string, string | undefined>> | undefined
}
