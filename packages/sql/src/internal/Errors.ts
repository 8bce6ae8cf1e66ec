/**
 * pgfx failures as `effect/sql` `SqlError`s, the reason chosen by SQLSTATE class (the mapping
 * `@effect/sql-pg` uses) or by the pgfx error's tag. The pgfx error is kept as the `cause`.
 */
import {
  AuthenticationError,
  AuthorizationError,
  ConnectionError,
  ConstraintError,
  DeadlockError,
  LockTimeoutError,
  SerializationError,
  SqlError,
  type SqlErrorReason,
  SqlSyntaxError,
  StatementTimeoutError,
  UniqueViolation,
  UnknownError,
} from "effect/sql/SqlError"

interface Props {
  readonly cause: unknown
  readonly message: string
  readonly operation: string
}

const field = (error: unknown, name: string): unknown =>
  typeof error === "object" && error !== null && name in error ? (error as Record<string, unknown>)[name] : undefined

/** The reason for a PostgreSQL SQLSTATE. */
export const reasonOfSqlState = (code: string, constraint: unknown, props: Props): SqlErrorReason => {
  if (code.startsWith("08")) return new ConnectionError(props)
  if (code.startsWith("28")) return new AuthenticationError(props)
  if (code === "42501") return new AuthorizationError(props)
  if (code.startsWith("42")) return new SqlSyntaxError(props)
  if (code === "23505") {
    const trimmed = typeof constraint === "string" ? constraint.trim() : ""
    const name = trimmed === "" ? "unknown" : trimmed
    return new UniqueViolation({ ...props, constraint: name })
  }
  if (code.startsWith("23")) return new ConstraintError(props)
  if (code === "40P01") return new DeadlockError(props)
  if (code === "40001") return new SerializationError(props)
  if (code === "55P03") return new LockTimeoutError(props)
  if (code === "57014") return new StatementTimeoutError(props)
  return new UnknownError(props)
}

/** Wraps any pgfx failure (or an already mapped `SqlError`) as a `SqlError`. */
export const toSqlError = (error: unknown, operation: string): SqlError => {
  if (error instanceof SqlError) return error
  const tag = field(error, "_tag")
  const message = String(field(error, "message") ?? error)
  const props: Props = { cause: error, message, operation }
  switch (tag) {
    case "PgServerError":
      return new SqlError({ reason: reasonOfSqlState(String(field(error, "code")), field(error, "constraint"), props) })
    case "PgConnectionError":
    case "PgProtocolError":
      return new SqlError({ reason: new ConnectionError(props) })
    case "PgAuthenticationError":
      return new SqlError({ reason: new AuthenticationError(props) })
    case "PgTimeoutError":
      return new SqlError({ reason: new StatementTimeoutError(props) })
    default:
      return new SqlError({ reason: new UnknownError(props) })
  }
}
