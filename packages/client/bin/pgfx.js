#!/usr/bin/env node
// `pgfx check <module>... [--url <url>]`: checks every `PgQuery` a module exports against a
// database (see `@pgfx/client/PgCheck`). The package imports itself, so an install runs the
// compiled dist/ and this repository runs the sources (condition "@pgfx/source").
import { Effect } from "effect"
import { main } from "@pgfx/client/PgCheck"

process.exitCode = await Effect.runPromise(main(process.argv.slice(2)))
