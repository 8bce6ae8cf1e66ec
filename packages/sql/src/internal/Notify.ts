/**
 * `listen` and `notify` as `@effect/sql-pg`'s `PgClient` has them, on pgfx's listener and pool.
 */
import type * as PgClient from "@pgfx/client/PgClient"
import { Effect, Queue, type Scope, Stream } from "effect"
import { SqlError, UnknownError } from "effect/sql/SqlError"
import { toSqlError } from "./Errors.ts"

/** A notification received on a channel (the shape `@effect/sql-pg` gives). */
export interface Notification {
  readonly processId: number
  readonly channel: string
  readonly payload: string
}

const encoder = new TextEncoder()

/** PostgreSQL truncates identifiers to 63 bytes; a longer channel name is refused before sending. */
const checkChannel = (channel: string, operation: string): Effect.Effect<void, SqlError> => {
  if (encoder.encode(channel).byteLength <= 63) return Effect.void
  const message = "PostgreSQL channel names must not exceed 63 UTF-8 bytes"
  return Effect.fail(new SqlError({ reason: new UnknownError({ cause: new Error(message), message, operation }) }))
}

/** LISTEN for the current scope; the queue is fed once the LISTEN is confirmed and shut down with the scope. */
export const listen = (
  client: PgClient.PgClientShape,
  channel: string,
): Effect.Effect<Queue.Dequeue<Notification, SqlError>, SqlError, Scope.Scope> =>
  Effect.gen(function* () {
    yield* checkChannel(channel, "listen")
    const events = yield* Effect.mapError(client.subscribe(channel), (e) => toSqlError(e, "listen"))
    const queue = yield* Effect.acquireRelease(Queue.unbounded<Notification, SqlError>(), Queue.shutdown)
    yield* Stream.runForEach(events, (event) =>
      event._tag === "PgNotification"
        ? Queue.offer(queue, { processId: event.processId, channel: event.channel, payload: event.payload })
        : Effect.void,
    ).pipe(
      Effect.catch((e) => Queue.fail(queue, toSqlError(e, "listen"))),
      Effect.forkScoped,
    )
    return queue
  })

/** `pg_notify(channel, payload)` through the client (on its current connection, if any). */
export const notify = (
  client: PgClient.PgClientShape,
  channel: string,
  payload: string,
): Effect.Effect<void, SqlError> =>
  Effect.andThen(
    checkChannel(channel, "notify"),
    Effect.mapError(client.notify(channel, payload), (e) => toSqlError(e, "notify")),
  )
