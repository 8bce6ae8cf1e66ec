/**
 * @pgfx/testing: throwaway PostgreSQL servers and helpers for tests.
 *
 * @since 0.1.0
 */

/**
 * A throwaway PostgreSQL server as a scoped Effect service.
 *
 * @since 0.1.0
 */
export * as TempCluster from "./TempCluster.ts"

/**
 * A throwaway primary with a streaming hot standby.
 *
 * @since 0.1.0
 */
export * as TempReplicaSet from "./TempReplicaSet.ts"

/**
 * A throwaway PgBouncer or pgpool-II in front of a server.
 *
 * @since 0.1.0
 */
export * as TempPooler from "./TempPooler.ts"

/**
 * The error every TempCluster operation fails with.
 *
 * @since 0.1.0
 */
export * as TempClusterError from "./TempClusterError.ts"

/**
 * `pg_hba.conf` lines as data.
 *
 * @since 0.1.0
 */
export * as HbaLine from "./HbaLine.ts"

/**
 * A TCP proxy that injects network faults (stall, black hole, cuts), and SIGSTOP of a backend.
 *
 * @since 0.1.0
 */
export * as FaultProxy from "./FaultProxy.ts"

/**
 * A scripted fake PostgreSQL server speaking the wire protocol, for what a real server will not do.
 *
 * @since 0.1.0
 */
export * as MockBackend from "./MockBackend.ts"

/**
 * Stopping, starting and restarting a TempCluster's server.
 *
 * @since 0.1.0
 */
export * as ServerControl from "./ServerControl.ts"

/**
 * Test isolation by rollback: test bodies in transactions (or savepoints) that are always
 * rolled back.
 *
 * @since 0.1.0
 */
export * as TestTransaction from "./TestTransaction.ts"

/**
 * A throwaway PostgreSQL for local development: the `pgfx-dev-db` command.
 *
 * @since 0.1.0
 */
export * as DevDatabase from "./DevDatabase.ts"
