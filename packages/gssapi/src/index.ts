/**
 * `@pgfx/gssapi`: GSSAPI (Kerberos) authentication for pgfx connections on Linux and macOS.
 *
 * @since 0.1.0
 */
export * as Gssapi from "./Gssapi.ts"
