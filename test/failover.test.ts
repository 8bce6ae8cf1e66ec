/**
 * A primary and a hot standby behind one PgClient with `targetSessionAttrs: "read-write"` (the
 * recipe of docs/poolers.md): writes run on the primary; the primary dies; the standby is
 * promoted; writes resume on it through the same client, with no other change. The switchover
 * time (primary gone → first write committed on the new primary) is printed.
 */
import * as PgClient from "@pgfx/client/PgClient"
import * as PgConnection from "@pgfx/client/PgConnection"
import { expect, it } from "@effect/vitest"
import * as TempReplicaSet from "@pgfx/testing/TempReplicaSet"
import { Effect, Fiber, Option } from "effect"

it.live(
  "writes resume on the promoted standby through the same PgClient (targetSessionAttrs: read-write)",
  () =>
    Effect.gen(function* () {
      const set = yield* TempReplicaSet.make()
      const nodes = [set.primary, set.standby]
      const client = yield* PgClient.make({
        host: nodes.map((n) => n.host),
        port: nodes.map((n) => n.port),
        user: set.user,
        database: set.database,
        environment: {},
        targetSessionAttrs: "read-write",
        connectTimeout: "2 seconds",
        min: 0,
        max: 4,
      })
      yield* client.execute("CREATE TABLE writes (n int, port int)")
      // Wait until the table has reached the standby.
      const standby = yield* PgConnection.make({ url: set.standby.url, environment: {} })
      for (let i = 0; i < 400; i++) {
        if (Option.getOrThrow(yield* standby.fetchVal("SELECT to_regclass('writes') IS NOT NULL")) === true) break
        yield* Effect.sleep("25 millis")
      }
      yield* standby.close()

      const write = (n: number) =>
        Effect.map(
          client.fetchVal("INSERT INTO writes VALUES ($1, current_setting('port')::int) RETURNING port", [n]),
          Option.getOrThrow,
        )
      for (let n = 0; n < 20; n++) expect(yield* write(n)).toBe(set.primary.port)

      yield* set.stopPrimary()
      const stoppedAt = Date.now()
      // The operator (or a failover manager) promotes the standby a second later; meanwhile the
      // same client keeps writing: failures until a connection reaches the new primary.
      let promotedAt = 0
      const promotion = yield* Effect.forkChild(
        Effect.andThen(
          Effect.sleep("1 second"),
          Effect.tap(set.promoteStandby(), () => Effect.sync(() => (promotedAt = Date.now()))),
        ),
      )
      let n = 20
      let failures = 0
      let resumedAt = 0
      while (Date.now() - stoppedAt < 60_000) {
        const result = yield* Effect.result(write(n))
        if (result._tag === "Success") {
          expect(result.success).toBe(set.standby.port)
          resumedAt = Date.now()
          break
        }
        failures++
        yield* Effect.sleep("20 millis")
      }
      yield* Fiber.join(promotion)
      expect(resumedAt).toBeGreaterThan(0)
      expect(failures).toBeGreaterThan(0) // the writes really went on through the outage
      for (let k = n + 1; k < n + 20; k++) expect(yield* write(k)).toBe(set.standby.port)
      expect(Option.getOrThrow(yield* client.fetchVal("SELECT count(*)::int FROM writes WHERE n >= 20"))).toBe(20)
      console.log(
        `[pgfx] failover: standby promoted ${promotedAt - stoppedAt} ms after the primary stopped; writes resumed ${resumedAt - stoppedAt} ms ` +
          `after the primary stopped (${resumedAt - promotedAt} ms after promotion, ${failures} failed writes)`,
      )
    }).pipe(Effect.scoped),
  120_000,
)
