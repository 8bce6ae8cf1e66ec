/**
 * Loads the golden byte streams written by `scripts/capture-goldens.ts`, for the Golden and Fuzz
 * tests. Each file is one conversation with a real server: per step, what the client sent and
 * what the server answered, as hex.
 */
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as Backend from "@pgfx/protocol/Backend"
import { Reader } from "@pgfx/protocol/Reader"

/** One step of a captured conversation. */
export interface GoldenStep {
  readonly name: string
  readonly description: string
  readonly client: Uint8Array
  readonly server: Uint8Array
}

/** One captured conversation. */
export interface GoldenFile {
  readonly file: string
  readonly generated: string
  readonly serverVersion: string
  readonly description: string
  readonly steps: ReadonlyArray<GoldenStep>
}

interface RawStep {
  readonly name: string
  readonly description: string
  readonly client: string
  readonly server: string
}

const dir = fileURLToPath(new URL(".", import.meta.url))

const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"))

/** Every golden file, sorted by name. */
export const loadGoldens = (): ReadonlyArray<GoldenFile> =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => {
      const raw = JSON.parse(readFileSync(`${dir}/${file}`, "utf8")) as {
        generated: string
        serverVersion: string
        description: string
        steps: ReadonlyArray<RawStep>
      }
      return {
        file,
        generated: raw.generated,
        serverVersion: raw.serverVersion,
        description: raw.description,
        steps: raw.steps.map((s) => ({
          name: s.name,
          description: s.description,
          client: fromHex(s.client),
          server: fromHex(s.server),
        })),
      }
    })

/** The golden file named `name` (without `.json`). */
export const golden = (name: string): GoldenFile => {
  const g = loadGoldens().find((f) => f.file === `${name}.json`)
  if (g === undefined) throw new Error(`no golden file ${name}.json`)
  return g
}

/** The step named `name` of a file. */
export const stepOf = (g: GoldenFile, name: string): GoldenStep => {
  const s = g.steps.find((x) => x.name === name)
  if (s === undefined) throw new Error(`no step ${name} in ${g.file}`)
  return s
}

/** A decoded backend frame with its exact bytes. */
export interface GoldenFrame {
  readonly bytes: Uint8Array
  readonly msg: Backend.BackendMessage
}

/** Frames and decodes a backend byte stream that must consist of whole frames. */
export const backendFrames = (stream: Uint8Array): Array<GoldenFrame> => {
  const r = new Reader()
  r.push(stream)
  const out: Array<GoldenFrame> = []
  while (r.next()) {
    out.push({ bytes: r.buf.slice(r.start - 5, r.end), msg: Backend.decode(r.type, r.buf, r.view, r.start, r.end) })
  }
  if (r.buffered !== 0) throw new Error(`${r.buffered} trailing bytes`)
  return out
}

/** True for steps whose server answer is one untyped byte (SSLRequest, GSSENCRequest). */
export const isOneByteAnswer = (s: GoldenStep): boolean => s.server.length === 1
