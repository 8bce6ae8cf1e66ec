#!/usr/bin/env node
// `pgfx-dev-db`: a throwaway PostgreSQL for local development (see `@pgfx/testing/DevDatabase`).
// The package imports itself, so an install runs the compiled dist/ and this repository runs the
// sources (condition "@pgfx/source").
import { Effect } from "effect"
import { main } from "@pgfx/testing/DevDatabase"

process.exitCode = await Effect.runPromise(main(process.argv.slice(2)))
