/**
 * Catching server errors by condition or class: the type-level part (checked by `tsc`, which
 * includes this file; each `@ts-expect-error` line must NOT compile, or tsc reports the unused
 * directive) and the runtime part (which errors each combinator and refinement catches).
 */
import { describe, expect, it } from "@effect/vitest"
import * as PgError from "@pgfx/client/PgError"
import { Effect, Exit } from "effect"

const server = (code: string) =>
  PgError.PgServerError.fromFields([
    ["S", "ERROR"],
    ["C", code],
    ["M", `failed with ${code}`],
    ["n", "t_pkey"],
  ])

type Failing = Effect.Effect<number, PgError.PgServerError | PgError.PgTimeoutError>
declare const query: Failing

/** Compile-time only: never called. */
const typed = () => {
  const byName = query.pipe(
    PgError.catchCondition("unique_violation", (e) => {
      const code: "23505" = e.code
      const condition: "unique_violation" = e.condition
      const klass: "integrity_constraint_violation" = e.conditionClass
      return Effect.succeed(`${code} ${condition} ${klass} ${e.constraint ?? ""}`)
    }),
  )
  // The channel keeps PgServerError (one class carries every condition) and the other errors.
  const kept: Effect.Effect<number | string, PgError.PgServerError | PgError.PgTimeoutError> = byName
  const byCode = PgError.catchCondition(query, "23505", (e) => Effect.succeed(e.condition))
  const byCodeName: Effect.Effect<number | "unique_violation", unknown> = byCode
  // A code with aliases narrows `condition` to all of its names.
  const alias = query.pipe(
    PgError.catchCondition("undefined_cursor", (e) => {
      const names: "invalid_cursor_name" | "undefined_cursor" = e.condition
      return Effect.succeed(names)
    }),
  )
  const byClass = query.pipe(
    PgError.catchClass("23", (e) => {
      const klass: "integrity_constraint_violation" = e.conditionClass
      const code: `23${string}` = e.code
      // A code of the class may be outside PostgreSQL's table.
      const condition: "unique_violation" | "foreign_key_violation" | (string & {}) | undefined = e.condition
      return Effect.succeed([klass, code, condition])
    }),
  )
  const byClassName = query.pipe(
    PgError.catchClass("transaction_rollback", (e) => {
      const code: `40${string}` = e.code
      return Effect.succeed(code)
    }),
  )
  // Refinements for Effect.catchIf narrow the handler's error the same way.
  const refined = query.pipe(
    Effect.catchIf(PgError.isCondition("serialization_failure"), (e) => {
      const code: "40001" = e.code
      return Effect.succeed(code)
    }),
  )
  const refinedKeeps: Effect.Effect<number | "40001", PgError.PgServerError | PgError.PgTimeoutError> = refined
  const unknownError: unknown = undefined
  if (PgError.isCondition(unknownError, "deadlock_detected")) {
    const code: "40P01" = unknownError.code
    void code
  }
  if (PgError.isClass(unknownError, "42")) {
    const klass: "syntax_error_or_access_rule_violation" = unknownError.conditionClass
    void klass
  }
  return [
    kept,
    byCodeName,
    alias,
    byClass,
    byClassName,
    refinedKeeps,
    // @ts-expect-error a misspelled condition name
    query.pipe(PgError.catchCondition("unique_violaton", () => Effect.void)),
    // @ts-expect-error a code PostgreSQL does not define
    query.pipe(PgError.catchCondition("99999", () => Effect.void)),
    // @ts-expect-error a misspelled class name
    query.pipe(PgError.catchClass("integrity_violation", () => Effect.void)),
    // @ts-expect-error a class code PostgreSQL does not define
    query.pipe(PgError.catchClass("99", () => Effect.void)),
    // @ts-expect-error a misspelled condition in a refinement
    Effect.catchIf(query, PgError.isCondition("deadlock"), () => Effect.void),
    query.pipe(
      PgError.catchCondition("unique_violation", (e) => {
        // @ts-expect-error the handler's error is narrowed: it is not a foreign key violation
        const wrong: "23503" = e.code
        return Effect.succeed(wrong)
      }),
    ),
  ]
}
void typed

describe("catching server errors by condition or class", () => {
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runSyncExit(effect)

  it("catchCondition matches by name, by code and through aliases, and passes the rest through", () => {
    const fails = (code: string) => Effect.fail(server(code))
    expect(
      run(fails("23505").pipe(PgError.catchCondition("unique_violation", (e) => Effect.succeed(e.constraint)))),
    ).toEqual(Exit.succeed("t_pkey"))
    expect(run(PgError.catchCondition(fails("23505"), "23505", (e) => Effect.succeed(e.condition)))).toEqual(
      Exit.succeed("unique_violation"),
    )
    // 34000's condition is invalid_cursor_name; its alias undefined_cursor catches it too.
    expect(
      run(fails("34000").pipe(PgError.catchCondition("undefined_cursor", (e) => Effect.succeed(e.condition)))),
    ).toEqual(Exit.succeed("invalid_cursor_name"))
    const other = run(fails("23503").pipe(PgError.catchCondition("unique_violation", () => Effect.succeed("no"))))
    expect(Exit.isFailure(other) && Exit.findErrorOption(other)).toMatchObject({ value: { code: "23503" } })
    const timeout = new PgError.PgTimeoutError({ message: "t", timeoutMs: 1 })
    const notServer = run(Effect.fail(timeout).pipe(PgError.catchCondition("query_canceled", () => Effect.succeed(1))))
    expect(notServer).toEqual(Exit.fail(timeout))
  })

  it("catchClass matches by class code and class name, including codes outside the table", () => {
    const fails = (code: string) => Effect.fail(server(code))
    expect(run(fails("23503").pipe(PgError.catchClass("23", (e) => Effect.succeed(e.condition))))).toEqual(
      Exit.succeed("foreign_key_violation"),
    )
    expect(
      run(fails("40P01").pipe(PgError.catchClass("transaction_rollback", (e) => Effect.succeed(e.conditionClass)))),
    ).toEqual(Exit.succeed("transaction_rollback"))
    expect(run(fails("23Z99").pipe(PgError.catchClass("23", (e) => Effect.succeed(e.condition))))).toEqual(
      Exit.succeed(undefined),
    )
    expect(Exit.isFailure(run(fails("42601").pipe(PgError.catchClass("23", () => Effect.succeed(1)))))).toBe(true)
  })

  it("isCondition and isClass are refinements, data-first or data-last", () => {
    expect(PgError.isCondition(server("40001"), "serialization_failure")).toBe(true)
    expect(PgError.isCondition(server("40001"), "40P01")).toBe(false)
    expect([server("40001"), server("40P01"), new Error("x")].filter(PgError.isCondition("deadlock_detected"))).toEqual(
      [server("40P01")],
    )
    expect(PgError.isClass(server("40001"), "40")).toBe(true)
    expect(PgError.isClass("40001", "40")).toBe(false)
    expect(
      run(Effect.fail(server("40001")).pipe(Effect.catchIf(PgError.isClass("40"), (e) => Effect.succeed(e.code)))),
    ).toEqual(Exit.succeed("40001"))
  })
})
