/** Helpers to read a failed Exit in assertions. */
import { Cause, Exit, Option } from "effect"

/** The typed failure of `exit`; throws when it succeeded or failed with a defect or interruption. */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
  const failure = Cause.findErrorOption(exit.cause)
  if (Option.isNone(failure)) throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return failure.value
}
