/**
 * The retry predicates: which failures are safe to run again (nothing of them was committed) and
 * which may go away by themselves.
 */
import * as PgError from "@pgfx/client/PgError"
import { describe, expect, it } from "vitest"

const server = (code: string) =>
  PgError.PgServerError.fromFields([
    ["S", "ERROR"],
    ["C", code],
    ["M", "m"],
  ])

const lost = new PgError.PgConnectionError({ reason: "ClosedByServer", message: "connection closed by the server" })

describe("isSafeToRetry", () => {
  it("connection failures, the server's own word, and unsent timeouts are safe", () => {
    expect(PgError.isSafeToRetry(lost)).toBe(true)
    expect(PgError.isSafeToRetry(new PgError.PgConnectionError({ reason: "ConnectTimeout", message: "t" }))).toBe(true)
    for (const code of ["40001", "40P01", "57P01", "57P02", "57P03", "53300", "08006"]) {
      expect(PgError.isSafeToRetry(server(code))).toBe(true)
    }
    expect(PgError.isSafeToRetry(new PgError.PgTimeoutError({ message: "acquire", timeoutMs: 1, sent: false }))).toBe(
      true,
    )
  })

  it("an unknown commit, a query timeout, other server errors and foreign errors are not", () => {
    expect(PgError.isSafeToRetry(new PgError.PgCommitUnknownError({ message: "m", cause: lost }))).toBe(false)
    expect(PgError.isSafeToRetry(new PgError.PgTimeoutError({ message: "query", timeoutMs: 1 }))).toBe(false)
    expect(PgError.isSafeToRetry(server("23505"))).toBe(false)
    expect(PgError.isSafeToRetry(new PgError.PgProtocolError({ message: "garbage" }))).toBe(false)
    expect(PgError.isSafeToRetry(new Error("mine"))).toBe(false)
    expect(PgError.isSafeToRetry(undefined)).toBe(false)
  })
})

describe("isTransient", () => {
  it("lost connections, timeouts, unknown commits and transient SQLSTATEs", () => {
    expect(PgError.isTransient(lost)).toBe(true)
    expect(PgError.isTransient(new PgError.PgTimeoutError({ message: "q", timeoutMs: 1 }))).toBe(true)
    expect(PgError.isTransient(new PgError.PgCommitUnknownError({ message: "m", cause: lost }))).toBe(true)
    for (const code of ["08006", "40001", "40P01", "53300", "55P03", "57P01", "57P03", "58030"]) {
      expect(PgError.isTransient(server(code))).toBe(true)
    }
  })

  it("configuration, data and programming errors are not", () => {
    expect(PgError.isTransient(new PgError.PgConnectionError({ reason: "Tls", message: "refused" }))).toBe(false)
    for (const code of ["23505", "42601", "28P01", "57014"]) expect(PgError.isTransient(server(code))).toBe(false)
    expect(PgError.isTransient(new PgError.PgInterfaceError({ message: "misuse" }))).toBe(false)
    expect(PgError.isTransient(new Error("mine"))).toBe(false)
  })

  it("several hosts failed: transient when one of them failed transiently", () => {
    const allHosts = (...codes: ReadonlyArray<string>) =>
      new PgError.PgConnectionError({
        reason: "AllHostsFailed",
        message: "all hosts failed",
        attempts: codes.map((code, i) => ({ host: `db${i}`, port: 5432, error: server(code) })),
      })
    expect(PgError.isTransient(allHosts("28P01", "28P01"))).toBe(false)
    expect(PgError.isTransient(allHosts("28P01", "57P03"))).toBe(true)
    expect(PgError.isTransient(allHosts("53300", "53300"))).toBe(true)
  })
})
