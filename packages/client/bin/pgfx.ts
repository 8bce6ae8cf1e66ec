#!/usr/bin/env node
/**
 * `pgfx` command line: `pgfx check <module>... [--url <url>]` checks every `PgQuery` a module
 * exports against a database (see `@pgfx/client/PgCheck`).
 */
import { Effect } from "effect"
import { main } from "../src/PgCheck.ts"

process.exitCode = await Effect.runPromise(main(process.argv.slice(2)))
