/**
 * Constructor shorthand for {@link TempClusterError}.
 *
 * @internal
 */
import { TempClusterError, type TempClusterErrorReason } from "../TempClusterError.ts"

export const fail = (
  reason: TempClusterErrorReason,
  message: string,
  options?: { readonly logTail?: string | undefined; readonly cause?: unknown },
): TempClusterError =>
  new TempClusterError({
    reason,
    message,
    logTail: options?.logTail ?? "",
    ...(options?.cause === undefined ? {} : { cause: options.cause }),
  })
