/**
 * SCRAM-SHA-256 and SCRAM-SHA-256-PLUS client arithmetic (RFC 5802, RFC 7677, channel binding
 * type `tls-server-end-point` from RFC 5929), shaped the way PostgreSQL and libpq use it.
 *
 * A pure state machine: each step takes the previous state value and the server's SASL data and
 * returns the next state value plus the bytes to send. No sockets, no session state; the caller
 * (the client's handshake) moves the bytes in `SASLInitialResponse` / `SASLResponse` messages.
 *
 * ```
 * AuthenticationSASL(mechanisms) -> chooseMechanism -> clientFirst        -> SASLInitialResponse
 * AuthenticationSASLContinue     -> handleServerFirst (or the 3 steps)     -> SASLResponse
 * AuthenticationSASLFinal        -> verifyServerFinal                      -> wait for AuthenticationOk
 * ```
 *
 * Gotchas:
 * - PostgreSQL ignores the SCRAM user name (it uses the startup packet's `user`); like libpq the
 *   client-first-message carries an empty `n=`.
 * - The password is normalized with {@link scramNormalizePassword} (SASLprep, falling back to the
 *   raw password exactly like libpq).
 * - PBKDF2 is CPU-bound: {@link handleServerFirst} runs it synchronously. A caller that must not
 *   block can use {@link parseServerFirst}, compute the salted password with the asynchronous
 *   `crypto.pbkdf2(scramNormalizePassword(password), salt, iterations, 32, "sha256", cb)`, then call
 *   {@link clientFinal}.
 * - Channel binding is only proven when {@link verifyServerFinal} reports `channelBound: true`. A
 *   client configured with `channel_binding=require` must also refuse an `AuthenticationOk` that
 *   arrives without a completed, channel-bound SCRAM exchange (libpq does).
 * - Errors never contain the password, the salted password or derived keys.
 *
 * @since 0.1.0
 */
import { Buffer } from "node:buffer"
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto"
import * as Data from "effect/Data"
import * as Result from "effect/Result"
import { scramNormalizePassword } from "./SaslPrep.ts"

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/** SHA-256 output length, the SCRAM-SHA-256 key length. */
const KEY_LENGTH = 32
/** Raw client nonce length in bytes, as libpq (`SCRAM_RAW_NONCE_LEN`). */
const RAW_NONCE_LENGTH = 18

// ---------------------------------------------------------------------------------------------
// Names and options
// ---------------------------------------------------------------------------------------------

/**
 * SASL mechanism name for SCRAM-SHA-256 without channel binding.
 *
 * @since 0.1.0
 */
export const SCRAM_SHA_256 = "SCRAM-SHA-256"

/**
 * SASL mechanism name for SCRAM-SHA-256 with channel binding (`tls-server-end-point`).
 *
 * @since 0.1.0
 */
export const SCRAM_SHA_256_PLUS = "SCRAM-SHA-256-PLUS"

/**
 * A SCRAM mechanism this client implements.
 *
 * @since 0.1.0
 */
export type ScramMechanism = typeof SCRAM_SHA_256 | typeof SCRAM_SHA_256_PLUS

/**
 * libpq's `channel_binding` setting.
 *
 * @since 0.1.0
 */
export type ChannelBindingMode = "disable" | "prefer" | "require"

/**
 * The GS2 header that starts the client-first-message: `p=tls-server-end-point,,` when binding,
 * `y,,` when the client could bind but the server did not offer it, `n,,` otherwise.
 *
 * @since 0.1.0
 */
export type Gs2Header = "n,," | "y,," | "p=tls-server-end-point,,"

/**
 * Default upper bound for the server's iteration count (`i=`). PostgreSQL's default
 * `scram_iterations` is 4096; the bound leaves room for hardened settings (OWASP suggests 600,000
 * for PBKDF2-HMAC-SHA-256) while stopping a hostile server from making the client burn seconds of
 * CPU. Override per call with `maxIterations`.
 *
 * @since 0.1.0
 */
export const DEFAULT_MAX_ITERATIONS = 1_000_000

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * Why a SCRAM exchange failed.
 *
 * - `"UnsupportedMechanism"`: the server offered no mechanism we can use.
 * - `"ChannelBindingRequired"`: `channelBinding: "require"` but binding is not possible.
 * - `"ChannelBindingNegotiation"`: the server offered SCRAM-SHA-256-PLUS on a connection the
 *   client knows is not TLS (a stripped TLS layer, libpq refuses this too).
 * - `"InvalidServerNonce"`: the server nonce does not extend the client nonce, or is not printable.
 * - `"InvalidIterationCount"`: `i=` is not a positive integer or exceeds `maxIterations`.
 * - `"MalformedServerMessage"`: missing or out-of-order attributes, bad base64, bad length.
 * - `"ServerError"`: the server-final-message carried `e=` (its value is in `serverError`).
 * - `"InvalidServerSignature"`: `v=` does not match; the server does not know the password.
 *
 * @since 0.1.0
 */
export type ScramErrorReason =
  | "UnsupportedMechanism"
  | "ChannelBindingRequired"
  | "ChannelBindingNegotiation"
  | "InvalidServerNonce"
  | "InvalidIterationCount"
  | "MalformedServerMessage"
  | "ServerError"
  | "InvalidServerSignature"

/**
 * A SCRAM step failed. `message` is safe to log: it never contains secrets.
 *
 * @example
 * ```ts
 * import { ScramError } from "@pgfx/protocol/Scram"
 * const e = new ScramError({ reason: "InvalidServerSignature", message: "SCRAM: incorrect server signature" })
 * e._tag // "ScramError"
 * ```
 * @since 0.1.0
 */
export class ScramError extends Data.TaggedError("ScramError")<{
  readonly reason: ScramErrorReason
  readonly message: string
  /** The server's `e=` value (RFC 5802 `server-error-value`), for `reason: "ServerError"`. */
  readonly serverError?: string
}> {}

const fail = (reason: ScramErrorReason, message: string): Result.Result<never, ScramError> =>
  Result.fail(new ScramError({ reason, message }))

// ---------------------------------------------------------------------------------------------
// States
// ---------------------------------------------------------------------------------------------

/**
 * The negotiated mechanism: the result of {@link chooseMechanism}, input of {@link clientFirst}.
 *
 * @since 0.1.0
 */
export interface ScramSelection {
  readonly _tag: "ScramSelection"
  readonly mechanism: ScramMechanism
  readonly gs2Header: Gs2Header
  /** The `tls-server-end-point` hash for SCRAM-SHA-256-PLUS, otherwise `undefined`. */
  readonly channelBindingData: Uint8Array | undefined
}

/**
 * After the client-first-message was sent; waiting for the server-first-message.
 *
 * @since 0.1.0
 */
export interface ScramAwaitingServerFirst {
  readonly _tag: "ScramAwaitingServerFirst"
  readonly selection: ScramSelection
  readonly clientNonce: string
  /** client-first-message without the GS2 header (`n=...,r=...`), part of the AuthMessage. */
  readonly clientFirstBare: string
}

/**
 * After the client-final-message was sent; holds the ServerSignature the server must prove.
 *
 * @since 0.1.0
 */
export interface ScramAwaitingServerFinal {
  readonly _tag: "ScramAwaitingServerFinal"
  readonly mechanism: ScramMechanism
  readonly expectedServerSignature: Uint8Array
}

/**
 * A message to send (as the SASL data of `SASLInitialResponse` / `SASLResponse`) and the state
 * that awaits the server's answer.
 *
 * @since 0.1.0
 */
export interface ScramStep<S> {
  readonly state: S
  /** The message text (ASCII). */
  readonly message: string
  /** The message as bytes, ready for the frame. */
  readonly bytes: Uint8Array
}

/**
 * The parsed server-first-message.
 *
 * @since 0.1.0
 */
export interface ScramServerFirst {
  /** The combined nonce (client nonce + server nonce). */
  readonly nonce: string
  readonly salt: Uint8Array
  readonly iterations: number
  /** The message exactly as received; it is part of the AuthMessage. */
  readonly raw: string
}

/**
 * A verified SCRAM exchange.
 *
 * @since 0.1.0
 */
export interface ScramOutcome {
  readonly mechanism: ScramMechanism
  /** Whether the exchange was bound to the TLS channel (SCRAM-SHA-256-PLUS). */
  readonly channelBound: boolean
}

// ---------------------------------------------------------------------------------------------
// Mechanism selection
// ---------------------------------------------------------------------------------------------

/**
 * Options for {@link chooseMechanism}.
 *
 * @since 0.1.0
 */
export interface ChooseMechanismOptions {
  readonly channelBinding: ChannelBindingMode
  /**
   * The `tls-server-end-point` channel binding data (see {@link tlsServerEndPointHash}); present
   * only on a TLS connection whose certificate hash could be computed.
   */
  readonly tlsServerEndPoint?: Uint8Array | undefined
  /** Whether the connection is TLS-encrypted. Defaults to `tlsServerEndPoint !== undefined`. */
  readonly tls?: boolean | undefined
}

/**
 * Picks the SCRAM mechanism and GS2 header from the server's `AuthenticationSASL` list, following
 * libpq:
 *
 * - SCRAM-SHA-256-PLUS with `p=tls-server-end-point,,` when the server offers it, binding is not
 *   `"disable"` and `tlsServerEndPoint` is given;
 * - otherwise SCRAM-SHA-256 with `y,,` when we could bind (binding not disabled, end-point data
 *   given) but the server did not offer PLUS, else `n,,`.
 *
 * Errors (`ScramError`): `"ChannelBindingNegotiation"` when PLUS is offered on a connection that is
 * not TLS; `"UnsupportedMechanism"` when nothing usable is offered; `"ChannelBindingRequired"`
 * when `channelBinding` is `"require"` and PLUS cannot be used.
 *
 * @example
 * ```ts
 * import { chooseMechanism } from "@pgfx/protocol/Scram"
 * chooseMechanism(["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"], { channelBinding: "prefer", tlsServerEndPoint: hash })
 * // Success({ mechanism: "SCRAM-SHA-256-PLUS", gs2Header: "p=tls-server-end-point,,", ... })
 * ```
 * @since 0.1.0
 */
export const chooseMechanism = (
  serverMechanisms: ReadonlyArray<string>,
  options: ChooseMechanismOptions,
): Result.Result<ScramSelection, ScramError> => {
  const endPoint = options.tlsServerEndPoint
  const tls = options.tls ?? endPoint !== undefined
  const offersPlus = serverMechanisms.includes(SCRAM_SHA_256_PLUS)
  const offersPlain = serverMechanisms.includes(SCRAM_SHA_256)
  const bindingAllowed = options.channelBinding !== "disable"

  if (offersPlus && !tls) {
    return fail(
      "ChannelBindingNegotiation",
      "SCRAM: server offered SCRAM-SHA-256-PLUS authentication over a non-TLS connection",
    )
  }
  if (offersPlus && bindingAllowed && endPoint !== undefined) {
    return Result.succeed({
      _tag: "ScramSelection",
      mechanism: SCRAM_SHA_256_PLUS,
      gs2Header: "p=tls-server-end-point,,",
      channelBindingData: endPoint,
    })
  }
  if (options.channelBinding === "require") {
    return fail(
      "ChannelBindingRequired",
      !offersPlus
        ? "SCRAM: channel binding is required, but the server did not offer an authentication method that supports channel binding"
        : "SCRAM: channel binding is required, but no tls-server-end-point data is available for this connection",
    )
  }
  if (!offersPlain) {
    return fail(
      "UnsupportedMechanism",
      `SCRAM: none of the server's SASL authentication mechanisms are supported (offered: ${serverMechanisms.join(", ")})`,
    )
  }
  return Result.succeed({
    _tag: "ScramSelection",
    mechanism: SCRAM_SHA_256,
    gs2Header: bindingAllowed && endPoint !== undefined && !offersPlus ? "y,," : "n,,",
    channelBindingData: undefined,
  })
}

// ---------------------------------------------------------------------------------------------
// client-first-message
// ---------------------------------------------------------------------------------------------

/**
 * Options for {@link clientFirst}; both exist for tests and interoperability.
 *
 * @since 0.1.0
 */
export interface ClientFirstOptions {
  /** The client nonce (printable ASCII without `,`). Default: base64 of 18 random bytes. */
  readonly nonce?: string | undefined
  /** The SCRAM user name. Default `""` (PostgreSQL ignores it; libpq sends `n=`). */
  readonly username?: string | undefined
}

const isPrintableNonce = (s: string): boolean => {
  if (s.length === 0) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x21 || c > 0x7e || c === 0x2c) return false
  }
  return true
}

/** RFC 5802 `saslname`: `=` becomes `=3D`, `,` becomes `=2C`. */
const saslName = (name: string): string => name.replaceAll("=", "=3D").replaceAll(",", "=2C")

/**
 * Builds the client-first-message (`<gs2-header>n=<user>,r=<nonce>`, for example
 * `n,,n=,r=rOprNGfwEbeRWgbNEkqO...`) for the selected mechanism, generating the client nonce
 * (base64 of 18 random bytes, as libpq) unless one is injected.
 *
 * Throws a `RangeError` (a defect) only when an injected nonce is empty, not printable ASCII, or
 * contains `,`.
 *
 * @example
 * ```ts
 * import { chooseMechanism, clientFirst } from "@pgfx/protocol/Scram"
 * import * as Result from "effect/Result"
 * const selection = Result.getOrThrow(chooseMechanism(["SCRAM-SHA-256"], { channelBinding: "prefer" }))
 * const first = clientFirst(selection)
 * first.message // "n,,n=,r=..."; send first.bytes in SASLInitialResponse("SCRAM-SHA-256", ...)
 * ```
 * @since 0.1.0
 */
export const clientFirst = (
  selection: ScramSelection,
  options?: ClientFirstOptions,
): ScramStep<ScramAwaitingServerFirst> => {
  const clientNonce = options?.nonce ?? randomBytes(RAW_NONCE_LENGTH).toString("base64")
  if (!isPrintableNonce(clientNonce)) {
    throw new RangeError("SCRAM: a client nonce must be non-empty printable ASCII without ','")
  }
  const clientFirstBare = `n=${saslName(options?.username ?? "")},r=${clientNonce}`
  const message = selection.gs2Header + clientFirstBare
  return {
    state: { _tag: "ScramAwaitingServerFirst", selection, clientNonce, clientFirstBare },
    message,
    bytes: textEncoder.encode(message),
  }
}

// ---------------------------------------------------------------------------------------------
// server-first-message -> client-final-message
// ---------------------------------------------------------------------------------------------

/**
 * Options for {@link parseServerFirst} and {@link handleServerFirst}.
 *
 * @since 0.1.0
 */
export interface ServerFirstOptions {
  /** Largest accepted iteration count. Default {@link DEFAULT_MAX_ITERATIONS}. */
  readonly maxIterations?: number | undefined
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Strict base64 (standard alphabet, padded); `undefined` when malformed. */
const decodeBase64 = (s: string): Uint8Array | undefined =>
  BASE64.test(s) ? new Uint8Array(Buffer.from(s, "base64")) : undefined

const encodeBase64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")

const asText = (message: string | Uint8Array): string | undefined => {
  if (typeof message === "string") return message
  try {
    return textDecoder.decode(message)
  } catch {
    return undefined
  }
}

/** Splits `a=1,b=2` into attributes; `undefined` when one is not `<letter>=<value>`. */
const splitAttributes = (text: string): Array<readonly [string, string]> | undefined => {
  const out: Array<readonly [string, string]> = []
  for (const part of text.split(",")) {
    const c = part.charCodeAt(0)
    const isLetter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
    if (part.length < 2 || !isLetter || part.charCodeAt(1) !== 0x3d) return undefined
    out.push([part[0], part.slice(2)])
  }
  return out
}

const malformed = (what: string): Result.Result<never, ScramError> =>
  fail("MalformedServerMessage", `SCRAM: malformed server message (${what})`)

/**
 * Parses and checks a server-first-message (`r=<nonce>,s=<salt>,i=<iterations>[,extensions]`).
 *
 * Errors (`ScramError`): `"MalformedServerMessage"` (not UTF-8, attributes missing or out of
 * order, a mandatory `m=` extension, bad or empty base64 salt), `"InvalidServerNonce"` (does not
 * start with the client nonce, adds nothing to it, or is not printable ASCII),
 * `"InvalidIterationCount"` (not a positive decimal integer, or above `maxIterations`).
 *
 * @example
 * ```ts
 * import { parseServerFirst } from "@pgfx/protocol/Scram"
 * parseServerFirst(state, "r=<client nonce><server nonce>,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
 * ```
 * @since 0.1.0
 */
export const parseServerFirst = (
  state: ScramAwaitingServerFirst,
  serverFirstMessage: string | Uint8Array,
  options?: ServerFirstOptions,
): Result.Result<ScramServerFirst, ScramError> => {
  const raw = asText(serverFirstMessage)
  if (raw === undefined) return malformed("server-first-message is not valid UTF-8")
  const attributes = splitAttributes(raw)
  if (attributes === undefined) return malformed("server-first-message is not a list of attributes")
  if (attributes[0][0] === "m") return malformed("unsupported mandatory extension")
  if (attributes.length < 3) return malformed("server-first-message is incomplete")
  const [[rKey, nonce], [sKey, saltText], [iKey, iterationsText]] = attributes
  if (rKey !== "r") return malformed('attribute "r" expected')
  if (!isPrintableNonce(nonce)) {
    return fail("InvalidServerNonce", "SCRAM: invalid server nonce (not printable ASCII)")
  }
  if (nonce.length <= state.clientNonce.length || !nonce.startsWith(state.clientNonce)) {
    return fail("InvalidServerNonce", "SCRAM: invalid SCRAM response (nonce mismatch)")
  }
  if (sKey !== "s") return malformed('attribute "s" expected')
  const salt = decodeBase64(saltText)
  if (salt === undefined || salt.length === 0) return malformed("invalid salt")
  if (iKey !== "i") return malformed('attribute "i" expected')
  const maxIterations = options?.maxIterations ?? DEFAULT_MAX_ITERATIONS
  if (!/^[0-9]{1,10}$/.test(iterationsText)) {
    return fail("InvalidIterationCount", "SCRAM: invalid iteration count (not a decimal integer)")
  }
  const iterations = Number(iterationsText)
  if (iterations < 1) {
    return fail("InvalidIterationCount", "SCRAM: invalid iteration count (must be at least 1)")
  }
  if (iterations > maxIterations) {
    return fail(
      "InvalidIterationCount",
      `SCRAM: iteration count ${iterations} exceeds the configured maximum ${maxIterations}`,
    )
  }
  return Result.succeed({ nonce, salt, iterations, raw })
}

/**
 * SaltedPassword = PBKDF2-HMAC-SHA-256(scramNormalizePassword(password), salt, iterations), 32
 * bytes. Synchronous and CPU-bound (see the module notes for the asynchronous alternative). Does
 * not fail; the caller bounds `iterations` (as {@link parseServerFirst} does).
 *
 * @example
 * ```ts
 * import { saltedPassword } from "@pgfx/protocol/Scram"
 * const sp = saltedPassword("pencil", salt, 4096) // Uint8Array(32)
 * ```
 * @since 0.1.0
 */
export const saltedPassword = (password: string, salt: Uint8Array, iterations: number): Uint8Array => {
  const normalized = textEncoder.encode(scramNormalizePassword(password))
  return new Uint8Array(pbkdf2Sync(normalized, salt, iterations, KEY_LENGTH, "sha256"))
}

const hmac = (key: Uint8Array, data: string | Uint8Array): Uint8Array => createHmac("sha256", key).update(data).digest()

/**
 * Builds the client-final-message from a parsed server-first-message and the salted password:
 * `c=<base64(gs2 header + channel binding data)>,r=<nonce>,p=<base64(ClientProof)>`, and keeps
 * the expected ServerSignature in the returned state. Pure HMAC/SHA-256; does not fail.
 *
 * ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = SHA-256(ClientKey),
 * AuthMessage = client-first-bare + "," + server-first + "," + client-final-without-proof,
 * ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage),
 * ServerSignature = HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage).
 *
 * @example
 * ```ts
 * import { clientFinal, parseServerFirst, saltedPassword } from "@pgfx/protocol/Scram"
 * // serverFirst from parseServerFirst; sp from saltedPassword or an async pbkdf2
 * const final = clientFinal(state, serverFirst, sp)
 * final.message // "c=biws,r=...,p=..."
 * ```
 * @since 0.1.0
 */
export const clientFinal = (
  state: ScramAwaitingServerFirst,
  serverFirst: ScramServerFirst,
  salted: Uint8Array,
): ScramStep<ScramAwaitingServerFinal> => {
  const { selection } = state
  const header = textEncoder.encode(selection.gs2Header)
  let cbindInput = header
  if (selection.channelBindingData !== undefined) {
    cbindInput = new Uint8Array(header.length + selection.channelBindingData.length)
    cbindInput.set(header)
    cbindInput.set(selection.channelBindingData, header.length)
  }
  const withoutProof = `c=${encodeBase64(cbindInput)},r=${serverFirst.nonce}`
  const authMessage = textEncoder.encode(`${state.clientFirstBare},${serverFirst.raw},${withoutProof}`)

  const clientKey = hmac(salted, "Client Key")
  const storedKey = createHash("sha256").update(clientKey).digest()
  const proof = hmac(storedKey, authMessage)
  for (let i = 0; i < proof.length; i++) proof[i] ^= clientKey[i]
  const serverKey = hmac(salted, "Server Key")
  const expectedServerSignature = hmac(serverKey, authMessage)

  const message = `${withoutProof},p=${encodeBase64(proof)}`
  return {
    state: { _tag: "ScramAwaitingServerFinal", mechanism: selection.mechanism, expectedServerSignature },
    message,
    bytes: textEncoder.encode(message),
  }
}

/**
 * Handles the server-first-message in one step: {@link parseServerFirst}, then
 * {@link saltedPassword} (synchronous PBKDF2, normalizing the password with SASLprep as libpq
 * does), then {@link clientFinal}. Returns the client-final-message to send and the state that
 * holds the expected ServerSignature.
 *
 * Errors: those of {@link parseServerFirst}.
 *
 * @example
 * ```ts
 * import { handleServerFirst } from "@pgfx/protocol/Scram"
 * const step = handleServerFirst(first.state, serverFirstText, "pencil")
 * // Success({ message: "c=biws,r=...,p=...", state: { expectedServerSignature, ... } })
 * ```
 * @since 0.1.0
 */
export const handleServerFirst = (
  state: ScramAwaitingServerFirst,
  serverFirstMessage: string | Uint8Array,
  password: string,
  options?: ServerFirstOptions,
): Result.Result<ScramStep<ScramAwaitingServerFinal>, ScramError> =>
  Result.map(parseServerFirst(state, serverFirstMessage, options), (serverFirst) =>
    clientFinal(state, serverFirst, saltedPassword(password, serverFirst.salt, serverFirst.iterations)),
  )

// ---------------------------------------------------------------------------------------------
// server-final-message
// ---------------------------------------------------------------------------------------------

/**
 * Checks the server-final-message (`v=<base64 ServerSignature>` or `e=<error>`), comparing the
 * signature in constant time. Success means the server knows the password (and, for PLUS, sits
 * on the TLS channel we see).
 *
 * Errors (`ScramError`): `"ServerError"` for `e=` (value in `serverError`),
 * `"MalformedServerMessage"` (no `v=`, bad base64, not 32 bytes), `"InvalidServerSignature"`.
 *
 * @example
 * ```ts
 * import { verifyServerFinal } from "@pgfx/protocol/Scram"
 * verifyServerFinal(step.state, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
 * // Success({ mechanism: "SCRAM-SHA-256", channelBound: false })
 * ```
 * @since 0.1.0
 */
export const verifyServerFinal = (
  state: ScramAwaitingServerFinal,
  serverFinalMessage: string | Uint8Array,
): Result.Result<ScramOutcome, ScramError> => {
  const text = asText(serverFinalMessage)
  if (text === undefined) return malformed("server-final-message is not valid UTF-8")
  const attributes = splitAttributes(text)
  if (attributes === undefined) return malformed("server-final-message is not a list of attributes")
  const [key, value] = attributes[0]
  if (key === "e") {
    const serverError = value.length > 200 ? `${value.slice(0, 200)}...` : value
    return Result.fail(
      new ScramError({
        reason: "ServerError",
        message: `SCRAM: error received from server in SCRAM exchange: ${serverError}`,
        serverError,
      }),
    )
  }
  if (key !== "v") return malformed('attribute "v" expected')
  const signature = decodeBase64(value)
  if (signature === undefined || signature.length !== KEY_LENGTH) return malformed("invalid server signature")
  if (!timingSafeEqual(signature, state.expectedServerSignature)) {
    return fail("InvalidServerSignature", "SCRAM: incorrect server signature")
  }
  return Result.succeed({ mechanism: state.mechanism, channelBound: state.mechanism === SCRAM_SHA_256_PLUS })
}

// ---------------------------------------------------------------------------------------------
// tls-server-end-point (RFC 5929 section 4.1)
// ---------------------------------------------------------------------------------------------

/** Signature algorithm OIDs whose hash is defined for tls-server-end-point. */
const OID_HASH: Readonly<Record<string, string | undefined>> = {
  "1.2.840.113549.1.1.4": "sha256", // md5WithRSAEncryption (MD5 -> SHA-256)
  "1.2.840.113549.1.1.5": "sha256", // sha1WithRSAEncryption (SHA-1 -> SHA-256)
  "1.3.14.3.2.29": "sha256", // sha1WithRSASignature (OIW)
  "1.2.840.113549.1.1.14": "sha224",
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
  "1.2.840.10045.4.1": "sha256", // ecdsa-with-SHA1
  "1.2.840.10045.4.3.1": "sha224",
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
  "1.2.840.10040.4.3": "sha256", // dsa-with-sha1
  "2.16.840.1.101.3.4.3.1": "sha224", // dsa-with-sha224
  "2.16.840.1.101.3.4.3.2": "sha256", // dsa-with-sha256
  "2.16.840.1.101.3.4.3.9": "sha3-224", // ecdsa-with-SHA3-*
  "2.16.840.1.101.3.4.3.10": "sha3-256",
  "2.16.840.1.101.3.4.3.11": "sha3-384",
  "2.16.840.1.101.3.4.3.12": "sha3-512",
  "2.16.840.1.101.3.4.3.13": "sha3-224", // RSA with SHA3-*
  "2.16.840.1.101.3.4.3.14": "sha3-256",
  "2.16.840.1.101.3.4.3.15": "sha3-384",
  "2.16.840.1.101.3.4.3.16": "sha3-512",
}

/** Hash for an algorithm name such as "sha256WithRSAEncryption", "ecdsa-with-SHA384", "RSA-SHA1". */
const hashForName = (name: string): string | undefined => {
  const n = name.toLowerCase().replace(/[^a-z0-9]/g, "")
  if (n.includes("pss") || n.includes("ed25519") || n.includes("ed448")) return undefined
  for (const bits of ["224", "256", "384", "512"]) if (n.includes(`sha3${bits}`)) return `sha3-${bits}`
  for (const bits of ["512", "384", "256", "224"]) if (n.includes(`sha${bits}`)) return `sha${bits}`
  if (n.includes("sha1") || n.includes("md5")) return "sha256"
  return undefined
}

/** Reads a DER length at `at`; returns [length, offset of the contents] or undefined. */
const derLength = (der: Uint8Array, at: number): readonly [number, number] | undefined => {
  if (at >= der.length) return undefined
  const first = der[at]
  if (first < 0x80) return [first, at + 1]
  const count = first & 0x7f
  if (count === 0 || count > 4 || at + 1 + count > der.length) return undefined
  let length = 0
  for (let i = 0; i < count; i++) length = length * 256 + der[at + 1 + i]
  return [length, at + 1 + count]
}

/**
 * The dotted OID of a DER certificate's outer `signatureAlgorithm`
 * (`Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }`), or
 * `undefined` when the bytes are not shaped like a certificate.
 *
 * @example
 * ```ts
 * import { certificateSignatureAlgorithmOid } from "@pgfx/protocol/Scram"
 * certificateSignatureAlgorithmOid(tlsSocket.getPeerCertificate().raw) // "1.2.840.113549.1.1.11"
 * ```
 * @since 0.1.0
 */
export const certificateSignatureAlgorithmOid = (certDer: Uint8Array): string | undefined => {
  if (certDer[0] !== 0x30) return undefined
  const outer = derLength(certDer, 1)
  if (outer === undefined || certDer[outer[1]] !== 0x30) return undefined
  const tbs = derLength(certDer, outer[1] + 1)
  if (tbs === undefined) return undefined
  const algAt = tbs[1] + tbs[0]
  if (certDer[algAt] !== 0x30) return undefined
  const alg = derLength(certDer, algAt + 1)
  if (alg === undefined || certDer[alg[1]] !== 0x06) return undefined
  const oid = derLength(certDer, alg[1] + 1)
  if (oid === undefined || oid[0] === 0 || oid[1] + oid[0] > certDer.length) return undefined
  const parts: Array<number> = []
  let value = 0
  for (let i = oid[1]; i < oid[1] + oid[0]; i++) {
    value = value * 128 + (certDer[i] & 0x7f)
    if ((certDer[i] & 0x80) === 0) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80)
      else parts.push(value)
      value = 0
    }
  }
  return parts.join(".")
}

/**
 * The `tls-server-end-point` channel binding data (RFC 5929 section 4.1): the hash of the
 * server's DER certificate, using the hash of the certificate's signature algorithm, except that
 * MD5 and SHA-1 are replaced by SHA-256. Pass the result as `tlsServerEndPoint` to
 * {@link chooseMechanism}.
 *
 * `signatureAlgorithm` is an OpenSSL name (`"sha256WithRSAEncryption"`, `"ecdsa-with-SHA384"`) or
 * a dotted OID. Obtain the DER from `tlsSocket.getPeerX509Certificate().raw` (or
 * `tlsSocket.getPeerCertificate().raw`) and the algorithm from the same `X509Certificate`'s
 * `signatureAlgorithmOid` / `signatureAlgorithm` (Node >= 24.9). When omitted it is read from the
 * DER itself ({@link certificateSignatureAlgorithmOid}), which works on every Node version.
 *
 * Returns `undefined` when the algorithm defines no single hash (RSASSA-PSS, Ed25519, Ed448) or is
 * unknown; PostgreSQL cannot bind such a channel either, so connect without `-PLUS`.
 *
 * @example
 * ```ts
 * import { tlsServerEndPointHash } from "@pgfx/protocol/Scram"
 * const cert = tlsSocket.getPeerX509Certificate()
 * const endPoint = cert && tlsServerEndPointHash(cert.raw, cert.signatureAlgorithmOid)
 * ```
 * @since 0.1.0
 */
export const tlsServerEndPointHash = (certDer: Uint8Array, signatureAlgorithm?: string): Uint8Array | undefined => {
  const algorithm = signatureAlgorithm ?? certificateSignatureAlgorithmOid(certDer)
  if (algorithm === undefined) return undefined
  const hash = /^[0-9]+(\.[0-9]+)+$/.test(algorithm) ? OID_HASH[algorithm] : hashForName(algorithm)
  return hash === undefined ? undefined : new Uint8Array(createHash(hash).update(certDer).digest())
}
