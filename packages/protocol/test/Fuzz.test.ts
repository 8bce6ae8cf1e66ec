/**
 * Property tests: arbitrary and mutated byte streams through the readers and decoders may only
 * ever raise the protocol's typed errors, never a TypeError/RangeError or a hang. Seeded PRNG, so
 * a failure reproduces; each property is bounded in time.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Backend from "@pgfx/protocol/Backend"
import * as BackendEncoder from "@pgfx/protocol/BackendEncoder"
import * as Frontend from "@pgfx/protocol/Frontend"
import * as FrontendDecoder from "@pgfx/protocol/FrontendDecoder"
import { InvalidMessageLength, MessageTooLarge, Reader } from "@pgfx/protocol/Reader"
import { Writer } from "@pgfx/protocol/Writer"
import { loadGoldens } from "./golden/golden.ts"

/** mulberry32 */
const prng = (seed: number) => (): number => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

type Rand = () => number
const int = (rand: Rand, n: number): number => Math.floor(rand() * n)

const randomBytes = (rand: Rand, n: number): Uint8Array => {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = int(rand, 256)
  return b
}

/** Splits a stream into random chunks. */
const chunks = (rand: Rand, stream: Uint8Array): Array<Uint8Array> => {
  const out: Array<Uint8Array> = []
  for (let pos = 0; pos < stream.length;) {
    const size = 1 + int(rand, rand() < 0.3 ? 4 : 64)
    out.push(stream.subarray(pos, pos + size))
    pos += size
  }
  return out
}

const isTyped = (e: unknown): boolean =>
  e instanceof Backend.ProtocolViolation || e instanceof MessageTooLarge || e instanceof InvalidMessageLength

/** Every property runs at least this many cases, however slow the machine (then the time budget applies). */
const MIN_CASES = 200

/**
 * Runs `body(rand, i)` at least {@link MIN_CASES} times, then until `iterations` or `millis` is
 * reached (a loaded machine runs fewer cases, never too few); returns the count run.
 */
const bounded = (seed: number, iterations: number, millis: number, body: (rand: Rand, i: number) => void): number => {
  const rand = prng(seed + SEED * 1000)
  const deadline = performance.now() + millis
  let i = 0
  for (; i < iterations * SCALE && (i < MIN_CASES || performance.now() < deadline); i++) body(rand, i)
  return i
}

const MAX = 64 * 1024
/**
 * Time budget per property: six properties stay around two seconds in total. For a deeper run:
 * `PGFX_FUZZ_SCALE=100 PGFX_FUZZ_SEED=7 npx vitest run packages/protocol/test/Fuzz.test.ts`.
 */
const SCALE = Number(process.env["PGFX_FUZZ_SCALE"] ?? "1")
const SEED = Number(process.env["PGFX_FUZZ_SEED"] ?? "0")
const BUDGET_MS = 330 * SCALE
const TIMEOUT_MS = BUDGET_MS * 3 + 5000

/**
 * Feeds a stream to a backend reader and decodes every frame; returns the decoded messages or
 * the typed error. Anything else escapes and fails the test. A successful decode must be stable
 * under re-encoding.
 */
const backendRun = (rand: Rand, stream: Uint8Array): { msgs: number; error: unknown } => {
  const r = new Reader({ maxMessageSize: MAX })
  let msgs = 0
  try {
    for (const c of chunks(rand, stream)) {
      r.push(c)
      while (r.next()) {
        if (r.oversized !== 0) throw new MessageTooLarge({ messageType: r.type, size: r.oversized, limit: MAX })
        const m = Backend.decode(r.type, r.buf, r.view, r.start, r.end)
        msgs++
        const again = BackendEncoder.toBytes(m)
        const r2 = new Reader()
        r2.push(again)
        expect(r2.next()).toBe(true)
        expect(Backend.decode(r2.type, r2.buf, r2.view, r2.start, r2.end)).toEqual(m)
      }
    }
  } catch (e) {
    if (!isTyped(e)) throw e
    return { msgs, error: e }
  }
  return { msgs, error: undefined }
}

const frontendRun = (
  rand: Rand,
  stream: Uint8Array,
  reader = new FrontendDecoder.FrontendReader({ maxMessageSize: MAX }),
): number => {
  let msgs = 0
  try {
    for (const c of chunks(rand, stream)) {
      reader.push(c)
      for (let m = reader.next(); m !== undefined; m = reader.next()) {
        msgs++
        if (m._tag === "AuthenticationResponse") {
          // The helpers must also fail only with ProtocolViolation.
          for (const f of [
            FrontendDecoder.passwordOf,
            FrontendDecoder.saslInitialResponseOf,
            FrontendDecoder.saslResponseOf,
          ]) {
            try {
              f(m)
            } catch (e) {
              if (!(e instanceof Backend.ProtocolViolation)) throw e
            }
          }
        }
      }
    }
  } catch (e) {
    if (!isTyped(e)) throw e
  }
  return msgs
}

const backendTypes = Object.values(Backend.Type)
const frontendTypes = Object.values(FrontendDecoder.Type)

/** A frame with a plausible type byte, a correct length and a random (often short) body. */
const randomFrame = (rand: Rand, types: ReadonlyArray<number>): Uint8Array => {
  const w = new Writer(64)
  const body = randomBytes(rand, int(rand, rand() < 0.7 ? 12 : 80))
  // Bias bodies towards small numbers and NULs, where the interesting branches are.
  for (let i = 0; i < body.length; i++) if (rand() < 0.5) body[i] = rand() < 0.5 ? 0 : int(rand, 4)
  const type = rand() < 0.95 ? types[int(rand, types.length)]! : int(rand, 256)
  return w
    .byte(type)
    .int32(body.length + 4)
    .bytes(body)
    .finishCopy()
}

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const w = new Writer(256)
  for (const p of parts) w.bytes(p)
  return w.finishCopy()
}

/** Mutations of a valid stream: bit flips, byte overwrites, truncation, insertion, deletion. */
const mutate = (rand: Rand, stream: Uint8Array): Uint8Array => {
  let b: Uint8Array = stream.slice()
  const n = 1 + int(rand, 4)
  for (let k = 0; k < n && b.length > 0; k++) {
    const at = int(rand, b.length)
    switch (int(rand, 5)) {
      case 0:
        b[at] = b[at]! ^ (1 << int(rand, 8))
        break
      case 1:
        b[at] = int(rand, 256)
        break
      case 2:
        b = b.slice(0, at)
        break
      case 3:
        b = concat([b.subarray(0, at), randomBytes(rand, 1 + int(rand, 8)), b.subarray(at)])
        break
      case 4:
        b = concat([b.subarray(0, at), b.subarray(at + 1 + int(rand, 8))])
        break
    }
  }
  return b
}

const startup = Frontend.build((w) => Frontend.startup(w, { user: "fuzz" }))
const goldens = loadGoldens()
const serverStreams = goldens.flatMap((g) => g.steps.filter((s) => s.server.length > 1).map((s) => s.server))
const clientStreams = goldens.map((g) => concat(g.steps.map((s) => s.client)))

describe("Fuzz: backend Reader + decode", () => {
  it(
    "random bytes raise only typed errors",
    () => {
      let errors = 0
      const n = bounded(1, 5000, BUDGET_MS, (rand) => {
        if (backendRun(rand, randomBytes(rand, int(rand, 300))).error !== undefined) errors++
      })
      expect(n).toBeGreaterThanOrEqual(MIN_CASES)
      expect(errors).toBeGreaterThan(0)
    },
    TIMEOUT_MS,
  )

  it(
    "random well-framed messages raise only ProtocolViolation, and decoded ones re-encode stably",
    () => {
      let decoded = 0
      const n = bounded(2, 20000, BUDGET_MS, (rand) => {
        const frames = Array.from({ length: 1 + int(rand, 4) }, () => randomFrame(rand, backendTypes))
        const { msgs, error } = backendRun(rand, concat(frames))
        decoded += msgs
        if (error !== undefined) expect(error).toBeInstanceOf(Backend.ProtocolViolation)
      })
      expect(n).toBeGreaterThanOrEqual(MIN_CASES)
      expect(decoded).toBeGreaterThan(100)
    },
    TIMEOUT_MS,
  )

  it(
    "mutated golden server streams raise only typed errors",
    () => {
      const n = bounded(3, 5000, BUDGET_MS, (rand) => {
        backendRun(rand, mutate(rand, serverStreams[int(rand, serverStreams.length)]!))
      })
      expect(n).toBeGreaterThanOrEqual(MIN_CASES)
    },
    TIMEOUT_MS,
  )
})

describe("Fuzz: FrontendReader + decode", () => {
  it(
    "random bytes in the startup phase raise only typed errors",
    () => {
      const n = bounded(4, 5000, BUDGET_MS, (rand) => {
        const prefix = rand() < 0.5 ? new Uint8Array([0, 0, 0, 8 + int(rand, 40)]) : new Uint8Array(0)
        frontendRun(rand, concat([prefix, randomBytes(rand, int(rand, 200))]))
      })
      expect(n).toBeGreaterThanOrEqual(MIN_CASES)
    },
    TIMEOUT_MS,
  )

  it(
    "random well-framed typed messages raise only typed errors",
    () => {
      const n = bounded(5, 20000, BUDGET_MS, (rand) => {
        const r = new FrontendDecoder.FrontendReader({ maxMessageSize: MAX })
        r.push(startup)
        expect(r.next()?._tag).toBe("StartupMessage")
        const frames = Array.from({ length: 1 + int(rand, 4) }, () => randomFrame(rand, frontendTypes))
        frontendRun(rand, concat(frames), r)
      })
      expect(n).toBeGreaterThanOrEqual(MIN_CASES)
    },
    TIMEOUT_MS,
  )

  it(
    "mutated golden client streams raise only typed errors",
    () => {
      const n = bounded(6, 5000, BUDGET_MS, (rand) => {
        frontendRun(rand, mutate(rand, clientStreams[int(rand, clientStreams.length)]!))
      })
      expect(n).toBeGreaterThanOrEqual(MIN_CASES)
    },
    TIMEOUT_MS,
  )
})
