import { createHash, createHmac, pbkdf2Sync, X509Certificate } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import {
  type ChannelBindingMode,
  certificateSignatureAlgorithmOid,
  chooseMechanism,
  clientFinal,
  clientFirst,
  DEFAULT_MAX_ITERATIONS,
  handleServerFirst,
  parseServerFirst,
  SCRAM_SHA_256,
  SCRAM_SHA_256_PLUS,
  type ScramError,
  type ScramSelection,
  saltedPassword,
  tlsServerEndPointHash,
  verifyServerFinal,
} from "../src/Scram.ts"

const ok = <A>(r: Result.Result<A, ScramError>): A => {
  if (Result.isFailure(r)) throw new Error(`expected success, got ${r.failure.reason}: ${r.failure.message}`)
  return r.success
}
/** tlsServerEndPointHash that must succeed, as a Buffer for comparisons. */
const endPointHash = (der: Uint8Array, algorithm?: string): Buffer => {
  const hash = tlsServerEndPointHash(der, algorithm)
  if (hash === undefined) throw new Error("expected a hash")
  return Buffer.from(hash)
}
const err = <A>(r: Result.Result<A, ScramError>): ScramError => {
  if (Result.isSuccess(r)) throw new Error("expected a ScramError")
  return r.failure
}

const plain = ok(chooseMechanism([SCRAM_SHA_256], { channelBinding: "prefer" }))

// RFC 7677 section 3.
const RFC = {
  nonce: "rOprNGfwEbeRWgbNEkqO",
  serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
  clientFinal:
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
  serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
}

/** A self-signed P-256 certificate signed with ecdsa-with-SHA384 (generated with openssl). */
const EC_SHA384_CERT = Buffer.from(
  "MIIBfzCCASWgAwIBAgIUT/h/uFVphiMi3+xu9CWbR+ZpPdEwCgYIKoZIzj0EAwMwFDESMBAGA1UEAwwJcGdmeC10ZXN0MCAXDTI2MTEyMTEzMzUyMVoYDzIxMjYxMDI4MTMzNTIxWjAUMRIwEAYDVQQDDAlwZ2Z4LXRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARpKBXKvTity/cnLuOQ+gNO1XA1mVKaV1AdmmAsiSVOeqBRdXl+i1qu8aW9TKbjWwqA0Ps/ZacdhrfHkCtJnHbGo1MwUTAdBgNVHQ4EFgQUjtRxqEIR1+cn9lG9h2XZJptkfUUwHwYDVR0jBBgwFoAUjtRxqEIR1+cn9lG9h2XZJptkfUUwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAwNIADBFAiBLRs6dHDvaZih9/qXgWrfLCry9FoY9DjnybQxRbvg89QIhAN9sediArMBS6SVzXl4ysBQfRROzKsv3yy4lG/MJUA5i",
  "base64",
)
/** A self-signed Ed25519 certificate: tls-server-end-point is undefined for it. */
const ED25519_CERT = Buffer.from(
  "MIIBMDCB46ADAgECAhQnMjBJhuCHOBcouo9seHNgrowcNjAFBgMrZXAwDTELMAkGA1UEAwwCZWQwIBcNMjYxMTIxMTMzNTIxWhgPMjEyNjEwMjgxMzM1MjFaMA0xCzAJBgNVBAMMAmVkMCowBQYDK2VwAyEAWQ8txsmT5kubfQfKISNCbJ/Ig9EFKhZpPMVDljlYDjGjUzBRMB0GA1UdDgQWBBSkxXtxhbHWD+p4boI+eojvBIqIuDAfBgNVHSMEGDAWgBSkxXtxhbHWD+p4boI+eojvBIqIuDAPBgNVHRMBAf8EBTADAQH/MAUGAytlcANBAAT0Q4EUiPskdh2Y5pAUEEdGQcISUhuYUu4Dh23L4gh2PG2BNYtDe1a3jxjVyKyxs6TgxAAx5jPg3E1tz/cavwQ=",
  "base64",
)

/**
 * An independent SCRAM-SHA-256 server (RFC 5802 section 3), written from the RFC with Buffers:
 * checks the client proof and the channel binding, returns the server-final-message.
 */
const fakeServer = (options: { password: string; salt: Buffer; iterations: number; serverNonce: string }) => {
  const salted = pbkdf2Sync(options.password, options.salt, options.iterations, 32, "sha256")
  const clientKey = createHmac("sha256", salted).update("Client Key").digest()
  const storedKey = createHash("sha256").update(clientKey).digest()
  const serverKey = createHmac("sha256", salted).update("Server Key").digest()
  let clientFirstBare = ""
  let serverFirst = ""
  return {
    first(clientFirstMessage: string): string {
      const match = /^([pny][^,]*,[^,]*,)(n=[^,]*,r=([^,]+))$/.exec(clientFirstMessage)
      if (match === null) throw new Error("bad client-first")
      clientFirstBare = match[2]
      serverFirst = `r=${match[3]}${options.serverNonce},s=${options.salt.toString("base64")},i=${options.iterations}`
      return serverFirst
    },
    final(clientFinalMessage: string, expectedCbind: Buffer): string {
      const match = /^(c=([^,]+),r=[^,]+),p=([^,]+)$/.exec(clientFinalMessage)
      if (match === null) throw new Error("bad client-final")
      if (!Buffer.from(match[2], "base64").equals(expectedCbind)) return "e=channel-bindings-dont-match"
      const authMessage = `${clientFirstBare},${serverFirst},${match[1]}`
      const clientSignature = createHmac("sha256", storedKey).update(authMessage).digest()
      const proof = Buffer.from(match[3], "base64")
      const recoveredClientKey = Buffer.from(proof.map((b, i) => b ^ clientSignature[i]))
      if (!createHash("sha256").update(recoveredClientKey).digest().equals(storedKey)) return "e=invalid-proof"
      return `v=${createHmac("sha256", serverKey).update(authMessage).digest("base64")}`
    },
  }
}

describe("Scram", () => {
  describe("RFC 7677 section 3 test vector", () => {
    it("produces the client-final-message and accepts the server-final-message", () => {
      const first = clientFirst(plain, { nonce: RFC.nonce, username: "user" })
      expect(first.message).toBe("n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
      expect(new TextDecoder().decode(first.bytes)).toBe(first.message)
      const final = ok(handleServerFirst(first.state, RFC.serverFirst, "pencil"))
      expect(final.message).toBe(RFC.clientFinal)
      expect(Buffer.from(final.state.expectedServerSignature).toString("base64")).toBe(RFC.serverFinal.slice(2))
      expect(ok(verifyServerFinal(final.state, RFC.serverFinal))).toEqual({
        mechanism: SCRAM_SHA_256,
        channelBound: false,
      })
    })

    it("accepts server messages as bytes", () => {
      const first = clientFirst(plain, { nonce: RFC.nonce, username: "user" })
      const final = ok(handleServerFirst(first.state, new TextEncoder().encode(RFC.serverFirst), "pencil"))
      expect(final.message).toBe(RFC.clientFinal)
      ok(verifyServerFinal(final.state, new TextEncoder().encode(RFC.serverFinal)))
    })

    it("the split steps give the same result as handleServerFirst", () => {
      const first = clientFirst(plain, { nonce: RFC.nonce, username: "user" })
      const parsed = ok(parseServerFirst(first.state, RFC.serverFirst))
      expect(parsed.iterations).toBe(4096)
      expect(Buffer.from(parsed.salt).toString("base64")).toBe("W22ZaJ0SNY7soEsUEjb6gQ==")
      const sp = saltedPassword("pencil", parsed.salt, parsed.iterations)
      expect(sp).toEqual(new Uint8Array(pbkdf2Sync("pencil", parsed.salt, 4096, 32, "sha256")))
      expect(clientFinal(first.state, parsed, sp).message).toBe(RFC.clientFinal)
    })
  })

  describe("clientFirst", () => {
    it("sends an empty user name and a 24-character base64 nonce by default, like libpq", () => {
      const first = clientFirst(plain)
      expect(first.message).toMatch(/^n,,n=,r=[A-Za-z0-9+/]{24}$/)
      expect(first.state.clientNonce).toHaveLength(24)
      expect(first.state.clientFirstBare).toBe(first.message.slice(3))
      expect(clientFirst(plain).state.clientNonce).not.toBe(first.state.clientNonce)
    })
    it("escapes ',' and '=' in an injected user name", () => {
      expect(clientFirst(plain, { nonce: "abc", username: "a,b=c" }).message).toBe("n,,n=a=2Cb=3Dc,r=abc")
    })
    it("rejects an invalid injected nonce", () => {
      expect(() => clientFirst(plain, { nonce: "a,b" })).toThrow(RangeError)
      expect(() => clientFirst(plain, { nonce: "" })).toThrow(RangeError)
      expect(() => clientFirst(plain, { nonce: "a b" })).toThrow(RangeError)
    })
  })

  describe("server-first-message checks", () => {
    const state = clientFirst(plain, { nonce: "clientnonce" }).state
    const reasonOf = (message: string, maxIterations?: number) =>
      err(parseServerFirst(state, message, maxIterations === undefined ? undefined : { maxIterations })).reason

    it("rejects a server nonce that does not extend the client nonce", () => {
      expect(reasonOf("r=othernonceXYZ,s=QUJD,i=4096")).toBe("InvalidServerNonce")
      expect(reasonOf("r=clientnonc,s=QUJD,i=4096")).toBe("InvalidServerNonce")
      expect(reasonOf("r=clientnonce,s=QUJD,i=4096")).toBe("InvalidServerNonce") // adds nothing
      expect(reasonOf("r=clientnonce\u00E9,s=QUJD,i=4096")).toBe("InvalidServerNonce")
    })

    it("caps the iteration count", () => {
      expect(reasonOf(`r=clientnonceS,s=QUJD,i=${DEFAULT_MAX_ITERATIONS + 1}`)).toBe("InvalidIterationCount")
      expect(reasonOf("r=clientnonceS,s=QUJD,i=5000", 4096)).toBe("InvalidIterationCount")
      expect(ok(parseServerFirst(state, "r=clientnonceS,s=QUJD,i=4096", { maxIterations: 4096 })).iterations).toBe(4096)
      expect(reasonOf("r=clientnonceS,s=QUJD,i=0")).toBe("InvalidIterationCount")
      expect(reasonOf("r=clientnonceS,s=QUJD,i=-1")).toBe("InvalidIterationCount")
      expect(reasonOf("r=clientnonceS,s=QUJD,i=12abc")).toBe("InvalidIterationCount")
      expect(reasonOf("r=clientnonceS,s=QUJD,i=")).toBe("InvalidIterationCount")
      expect(reasonOf("r=clientnonceS,s=QUJD,i=99999999999999999999")).toBe("InvalidIterationCount")
    })

    it("rejects malformed attributes and base64", () => {
      expect(reasonOf("")).toBe("MalformedServerMessage")
      expect(reasonOf("garbage")).toBe("MalformedServerMessage")
      expect(reasonOf("r=clientnonceS,s=QUJD")).toBe("MalformedServerMessage")
      expect(reasonOf("s=QUJD,r=clientnonceS,i=4096")).toBe("MalformedServerMessage")
      expect(reasonOf("r=clientnonceS,x=QUJD,i=4096")).toBe("MalformedServerMessage")
      expect(reasonOf("r=clientnonceS,s=QUJD,n=4096")).toBe("MalformedServerMessage")
      expect(reasonOf("m=ext,r=clientnonceS,s=QUJD,i=4096")).toBe("MalformedServerMessage")
      expect(reasonOf("r=clientnonceS,s=QUJ,i=4096")).toBe("MalformedServerMessage")
      expect(reasonOf("r=clientnonceS,s=Q*JD,i=4096")).toBe("MalformedServerMessage")
      expect(reasonOf("r=clientnonceS,s=,i=4096")).toBe("MalformedServerMessage")
      expect(reasonOf("r=clientnonceS,s=QUJD,i=4096,")).toBe("MalformedServerMessage")
      expect(err(parseServerFirst(state, Uint8Array.of(0x72, 0x3d, 0xff))).reason).toBe("MalformedServerMessage")
    })

    it("tolerates extensions after i=", () => {
      expect(ok(parseServerFirst(state, "r=clientnonceS,s=QUJD,i=1,x=ext")).iterations).toBe(1)
    })
  })

  describe("server-final-message checks", () => {
    const final = () =>
      ok(handleServerFirst(clientFirst(plain, { nonce: RFC.nonce, username: "user" }).state, RFC.serverFirst, "pencil"))

    it("rejects a wrong server signature", () => {
      const e = err(verifyServerFinal(final().state, "v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
      expect(e.reason).toBe("InvalidServerSignature")
      expect(e._tag).toBe("ScramError")
    })
    it("reports e= as a ServerError carrying the server's value", () => {
      const e = err(verifyServerFinal(final().state, "e=invalid-proof"))
      expect(e.reason).toBe("ServerError")
      expect(e.serverError).toBe("invalid-proof")
      expect(e.message).toContain("invalid-proof")
    })
    it("rejects malformed signatures", () => {
      expect(err(verifyServerFinal(final().state, "v=AAAA")).reason).toBe("MalformedServerMessage")
      expect(err(verifyServerFinal(final().state, "v=not base64")).reason).toBe("MalformedServerMessage")
      expect(err(verifyServerFinal(final().state, "x=abc")).reason).toBe("MalformedServerMessage")
      expect(err(verifyServerFinal(final().state, "")).reason).toBe("MalformedServerMessage")
    })
    it("never puts the password or keys in error messages", () => {
      const password = "hunter2-secret"
      const state = clientFirst(plain, { nonce: "n0nce" }).state
      const step = ok(handleServerFirst(state, "r=n0nceSERVER,s=QUJD,i=1", password))
      const signature = Buffer.from(step.state.expectedServerSignature).toString("base64")
      const e = err(verifyServerFinal(step.state, "v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
      const text = `${e.message} ${JSON.stringify(e)} ${String(e)}`
      expect(text).not.toContain(password)
      expect(text).not.toContain(signature)
    })
  })

  describe("chooseMechanism", () => {
    const endPoint = Uint8Array.of(1, 2, 3, 4)
    const both = [SCRAM_SHA_256_PLUS, SCRAM_SHA_256]
    const pick = (
      offered: ReadonlyArray<string>,
      channelBinding: ChannelBindingMode,
      tlsServerEndPoint?: Uint8Array,
      tls?: boolean,
    ) => {
      const r = chooseMechanism(offered, { channelBinding, tlsServerEndPoint, tls })
      return Result.isSuccess(r) ? `${r.success.mechanism} ${r.success.gs2Header}` : r.failure.reason
    }

    it.each([
      // offered, mode, end-point data, tls flag -> result
      [both, "prefer", endPoint, undefined, "SCRAM-SHA-256-PLUS p=tls-server-end-point,,"],
      [both, "require", endPoint, undefined, "SCRAM-SHA-256-PLUS p=tls-server-end-point,,"],
      [both, "disable", endPoint, undefined, "SCRAM-SHA-256 n,,"],
      [[SCRAM_SHA_256_PLUS], "prefer", endPoint, undefined, "SCRAM-SHA-256-PLUS p=tls-server-end-point,,"],
      [[SCRAM_SHA_256_PLUS], "disable", endPoint, undefined, "UnsupportedMechanism"],
      [[SCRAM_SHA_256], "prefer", endPoint, undefined, "SCRAM-SHA-256 y,,"],
      [[SCRAM_SHA_256], "disable", endPoint, undefined, "SCRAM-SHA-256 n,,"],
      [[SCRAM_SHA_256], "require", endPoint, undefined, "ChannelBindingRequired"],
      [[SCRAM_SHA_256], "prefer", undefined, undefined, "SCRAM-SHA-256 n,,"],
      [[SCRAM_SHA_256], "require", undefined, undefined, "ChannelBindingRequired"],
      [both, "prefer", undefined, undefined, "ChannelBindingNegotiation"], // PLUS offered without TLS
      [both, "disable", undefined, false, "ChannelBindingNegotiation"],
      [both, "prefer", undefined, true, "SCRAM-SHA-256 n,,"], // TLS, but no usable certificate hash
      [both, "require", undefined, true, "ChannelBindingRequired"],
      [["SCRAM-SHA-1", "OAUTHBEARER"], "prefer", undefined, undefined, "UnsupportedMechanism"],
      [[], "disable", undefined, undefined, "UnsupportedMechanism"],
    ] as const)("%j %s cert=%s tls=%s -> %s", (offered, mode, data, tls, expected) => {
      expect(pick(offered, mode, data, tls)).toBe(expected)
    })

    it("carries the end-point data only for PLUS", () => {
      expect(
        ok(chooseMechanism(both, { channelBinding: "prefer", tlsServerEndPoint: endPoint })).channelBindingData,
      ).toBe(endPoint)
      expect(
        ok(chooseMechanism([SCRAM_SHA_256], { channelBinding: "prefer", tlsServerEndPoint: endPoint }))
          .channelBindingData,
      ).toBeUndefined()
    })
  })

  describe("channel binding", () => {
    const run = (selection: ScramSelection, cbind: Buffer, password = "secret") => {
      const server = fakeServer({
        password,
        salt: Buffer.from("0123456789abcdef"),
        iterations: 4096,
        serverNonce: "SRV",
      })
      const first = clientFirst(selection)
      const step = ok(handleServerFirst(first.state, server.first(first.message), password))
      return { first, step, serverFinal: server.final(step.message, cbind) }
    }

    it("SCRAM-SHA-256-PLUS sends p=tls-server-end-point and c=base64(header + hash)", () => {
      const hash = endPointHash(EC_SHA384_CERT)
      const selection = ok(
        chooseMechanism([SCRAM_SHA_256_PLUS, SCRAM_SHA_256], { channelBinding: "require", tlsServerEndPoint: hash }),
      )
      const expectedCbind = Buffer.concat([Buffer.from("p=tls-server-end-point,,"), hash])
      const { first, step, serverFinal } = run(selection, expectedCbind)
      expect(first.message.startsWith("p=tls-server-end-point,,n=,r=")).toBe(true)
      expect(step.message.startsWith(`c=${expectedCbind.toString("base64")},r=`)).toBe(true)
      expect(serverFinal.startsWith("v=")).toBe(true)
      expect(ok(verifyServerFinal(step.state, serverFinal))).toEqual({
        mechanism: SCRAM_SHA_256_PLUS,
        channelBound: true,
      })
    })

    it("a different certificate hash makes the server refuse", () => {
      const selection = ok(
        chooseMechanism([SCRAM_SHA_256_PLUS], { channelBinding: "prefer", tlsServerEndPoint: Uint8Array.of(9, 9, 9) }),
      )
      const serverSees = Buffer.concat([Buffer.from("p=tls-server-end-point,,"), Uint8Array.of(1, 1, 1)])
      const { step, serverFinal } = run(selection, serverSees)
      const e = err(verifyServerFinal(step.state, serverFinal))
      expect(e.reason).toBe("ServerError")
      expect(e.serverError).toBe("channel-bindings-dont-match")
    })

    it("y,, sends c=eSws and n,, sends c=biws", () => {
      const y = ok(chooseMechanism([SCRAM_SHA_256], { channelBinding: "prefer", tlsServerEndPoint: Uint8Array.of(1) }))
      const yRun = run(y, Buffer.from("y,,"))
      expect(yRun.first.message.startsWith("y,,n=,r=")).toBe(true)
      expect(yRun.step.message.startsWith("c=eSws,r=")).toBe(true)
      expect(ok(verifyServerFinal(yRun.step.state, yRun.serverFinal)).channelBound).toBe(false)
      const nRun = run(plain, Buffer.from("n,,"))
      expect(nRun.step.message.startsWith("c=biws,r=")).toBe(true)
      ok(verifyServerFinal(nRun.step.state, nRun.serverFinal))
    })

    it("a wrong password is refused by the server", () => {
      const server = fakeServer({ password: "right", salt: Buffer.from("salt"), iterations: 16, serverNonce: "S" })
      const first = clientFirst(plain)
      const step = ok(handleServerFirst(first.state, server.first(first.message), "wrong"))
      expect(server.final(step.message, Buffer.from("n,,"))).toBe("e=invalid-proof")
    })
  })

  describe("SASLprep of the password", () => {
    const serverWith = (storedPassword: string) =>
      fakeServer({ password: storedPassword, salt: Buffer.from("NaCl"), iterations: 64, serverNonce: "X" })
    const exchange = (storedPassword: string, typedPassword: string) => {
      const server = serverWith(storedPassword)
      const first = clientFirst(plain)
      const step = ok(handleServerFirst(first.state, server.first(first.message), typedPassword))
      return server.final(step.message, Buffer.from("n,,"))
    }

    it("normalizes the password before PBKDF2", () => {
      // The server's secret was built from SASLprep("I\u00ADX") = "IX".
      expect(exchange("IX", "I\u00ADX")).toMatch(/^v=/)
      expect(exchange("IX", "\u2168")).toMatch(/^v=/)
      expect(exchange("a b", "a\u3000b")).toMatch(/^v=/)
      expect(exchange("\u00E9", "e\u0301")).toMatch(/^v=/)
    })
    it("uses the raw password when SASLprep fails, like libpq", () => {
      expect(exchange("\u0627\u0031", "\u0627\u0031")).toMatch(/^v=/)
      expect(exchange("a\u0007b", "a\u0007b")).toMatch(/^v=/)
    })
    it("saltedPassword applies the same normalization", () => {
      const salt = Uint8Array.of(1, 2, 3)
      expect(saltedPassword("\u2168", salt, 2)).toEqual(saltedPassword("IX", salt, 2))
    })
  })

  describe("tlsServerEndPointHash", () => {
    const der = EC_SHA384_CERT
    it("hashes with the certificate's signature hash (ecdsa-with-SHA384 -> SHA-384)", () => {
      const expected = createHash("sha384").update(der).digest()
      expect(endPointHash(der)).toEqual(expected)
      expect(endPointHash(der, "ecdsa-with-SHA384")).toEqual(expected)
      expect(endPointHash(der, "1.2.840.10045.4.3.3")).toEqual(expected)
    })
    it("reads the signature algorithm OID from the DER, agreeing with X509Certificate", () => {
      expect(certificateSignatureAlgorithmOid(der)).toBe("1.2.840.10045.4.3.3")
      const x509 = new X509Certificate(der) as X509Certificate & { signatureAlgorithmOid?: string }
      if (x509.signatureAlgorithmOid !== undefined) {
        expect(certificateSignatureAlgorithmOid(der)).toBe(x509.signatureAlgorithmOid)
      }
      expect(certificateSignatureAlgorithmOid(ED25519_CERT)).toBe("1.3.101.112")
      expect(certificateSignatureAlgorithmOid(Uint8Array.of(1, 2, 3))).toBeUndefined()
      expect(certificateSignatureAlgorithmOid(der.subarray(0, 20))).toBeUndefined()
    })
    it("replaces MD5 and SHA-1 with SHA-256", () => {
      const sha256 = createHash("sha256").update(der).digest()
      for (const name of [
        "sha1WithRSAEncryption",
        "md5WithRSAEncryption",
        "ecdsa-with-SHA1",
        "RSA-SHA1",
        "1.2.840.113549.1.1.5",
        "1.2.840.113549.1.1.4",
      ]) {
        expect(endPointHash(der, name)).toEqual(sha256)
      }
    })
    it("maps the other SHA-2 and SHA-3 names", () => {
      const digest = (h: string) => createHash(h).update(der).digest()
      expect(endPointHash(der, "sha256WithRSAEncryption")).toEqual(digest("sha256"))
      expect(endPointHash(der, "sha512WithRSAEncryption")).toEqual(digest("sha512"))
      expect(endPointHash(der, "1.2.840.113549.1.1.12")).toEqual(digest("sha384"))
      expect(endPointHash(der, "sha224WithRSAEncryption")).toEqual(digest("sha224"))
      expect(endPointHash(der, "RSA-SHA3-256")).toEqual(digest("sha3-256"))
    })
    it("is undefined when no single hash applies", () => {
      expect(tlsServerEndPointHash(ED25519_CERT)).toBeUndefined()
      expect(tlsServerEndPointHash(der, "ED25519")).toBeUndefined()
      expect(tlsServerEndPointHash(der, "rsassaPss")).toBeUndefined()
      expect(tlsServerEndPointHash(der, "1.2.840.113549.1.1.10")).toBeUndefined()
      expect(tlsServerEndPointHash(der, "no-such-algorithm")).toBeUndefined()
      expect(tlsServerEndPointHash(Uint8Array.of(0))).toBeUndefined()
    })
  })
})
