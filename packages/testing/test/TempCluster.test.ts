import { execFile, spawn } from "node:child_process"
import { X509Certificate } from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, expect, it, layer } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as TempCluster from "@pgfx/testing/TempCluster"
import type { HbaLine } from "@pgfx/testing/HbaLine"
import { sslProbe, startupProbe, type StartupOutcome } from "../src/internal/probe.ts"
import { sleep } from "../src/internal/proc.ts"

const SLOW = 60_000

const authLines: ReadonlyArray<HbaLine> = [
  { type: "host", database: "all", user: "pgfx_md5", address: "127.0.0.1/32", method: "md5" },
  { type: "host", database: "all", user: "pgfx_scram", address: "127.0.0.1/32", method: "scram-sha-256" },
  { type: "host", database: "all", user: "pgfx_clear", address: "127.0.0.1/32", method: "password" },
  { type: "hostssl", database: "all", user: "pgfx_cert", address: "127.0.0.1/32", method: "cert" },
  { type: "hostnossl", database: "all", user: "pgfx_cert", address: "127.0.0.1/32", method: "reject" },
  { type: "local", database: "all", user: "all", method: "trust" },
  { type: "host", database: "all", user: "all", address: "127.0.0.1/32", method: "trust" },
]

const options: TempCluster.Options = {
  url: false,
  users: [
    { name: "pgfx_md5", password: "md5pass", passwordEncryption: "md5" },
    { name: "pgfx_scram", password: "scrampass" },
    { name: "pgfx_clear", password: "clearpass" },
    { name: "pgfx_trust" },
    { name: "pgfx_cert" },
  ],
  databases: [{ name: "pgfx_db", owner: "pgfx_scram" }],
  hba: authLines,
  tls: { clientCerts: ["pgfx_cert"] },
}

const tcp = (cluster: TempCluster.TempClusterShape) => ({ host: cluster.host, port: cluster.port })

const authCode = (outcome: StartupOutcome): number | string =>
  outcome._tag === "Auth"
    ? outcome.code
    : outcome._tag === "Ok"
      ? 0
      : outcome._tag === "Error"
        ? (outcome.fields.C ?? "?")
        : outcome.message

/** Run `effect` with clusters created under a private temp root (TMPDIR), so other runs cannot interfere. */
const withPrivateTmp = <A, E, R>(effect: (root: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const root = Fs.mkdtempSync(Path.join(Os.tmpdir(), "pgfx-test-root-"))
      Fs.chmodSync(root, 0o755) // the server account must reach it when we are root
      const saved = process.env.TMPDIR
      process.env.TMPDIR = root
      return { root, saved }
    }),
    ({ root }) => effect(root),
    ({ root, saved }) =>
      Effect.sync(() => {
        if (saved === undefined) delete process.env.TMPDIR
        else process.env.TMPDIR = saved
        Fs.rmSync(root, { recursive: true, force: true })
      }),
  )

layer(TempCluster.layer(options), { timeout: "120 seconds" })("TempCluster (shared)", (it) => {
  it.effect("describes itself", () =>
    Effect.gen(function* () {
      const cluster = yield* TempCluster.TempCluster
      expect(cluster.external).toBe(false)
      const forced = process.env.PGFX_TEST_PG
      if (forced === "system" || forced === "embedded") expect(cluster.source).toBe(forced)
      expect(cluster.host).toBe("127.0.0.1")
      expect(cluster.user).toBe("postgres")
      expect(cluster.database).toBe("postgres")
      expect(cluster.url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/postgres`)
      expect(cluster.version).toBeGreaterThanOrEqual(13)
      expect(cluster.versionString).toContain(`(PostgreSQL) ${cluster.version}`)
      assert(cluster.dataDir !== undefined && cluster.binDir !== undefined && cluster.socketDir !== undefined)
      expect(Fs.existsSync(Path.join(cluster.dataDir, "PG_VERSION"))).toBe(true)
      expect(Fs.readFileSync(Path.join(cluster.dataDir, "PG_VERSION"), "utf8").trim()).toBe(String(cluster.version))
      expect(Fs.existsSync(Path.join(cluster.binDir, "postgres"))).toBe(true)
      expect(Fs.existsSync(Path.join(cluster.socketDir, `.s.PGSQL.${cluster.port}`))).toBe(true)
      const conf = Fs.readFileSync(Path.join(cluster.dataDir, "pgfx.conf"), "utf8")
      expect(conf).toContain("fsync = 'off'")
      expect(conf).toContain(`unix_socket_directories = '${cluster.socketDir}'`)
    }),
  )

  it.effect("a real PostgreSQL answers SSLRequest on TCP (S, TLS on) and on the unix socket (N)", () =>
    Effect.gen(function* () {
      const cluster = yield* TempCluster.TempCluster
      expect(yield* sslProbe(tcp(cluster))).toBe("S")
      assert(cluster.socketDir !== undefined)
      expect(yield* sslProbe({ socketDir: cluster.socketDir, port: cluster.port })).toBe("N")
    }),
  )

  it.effect("users, password encryption and hba lines take effect", () =>
    Effect.gen(function* () {
      const cluster = yield* TempCluster.TempCluster
      const login = (user: string, database = "postgres") =>
        startupProbe(tcp(cluster), { user, database }).pipe(Effect.map(authCode))
      expect(yield* login("pgfx_md5")).toBe(5) // AuthenticationMD5Password: stored as md5
      expect(yield* login("pgfx_scram")).toBe(10) // AuthenticationSASL
      expect(yield* login("pgfx_clear")).toBe(3) // AuthenticationCleartextPassword
      expect(yield* login("pgfx_trust")).toBe(0)
      expect(yield* login("postgres")).toBe(0)
      expect(yield* login("pgfx_trust", "pgfx_db")).toBe(0) // the database exists
      expect(yield* login("pgfx_trust", "no_such_db")).toBe("3D000")
      expect(yield* login("no_such_user")).toBe("28000")
      expect(yield* login("pgfx_cert")).toBe("28000") // hostnossl ... reject
      const scram = yield* startupProbe(tcp(cluster), { user: "pgfx_scram", database: "postgres" })
      assert(scram._tag === "Auth")
      expect(scram.mechanisms).toContain("SCRAM-SHA-256")
      assert(cluster.socketDir !== undefined)
      const local = yield* startupProbe(
        { socketDir: cluster.socketDir, port: cluster.port },
        { user: "pgfx_md5", database: "postgres" },
      )
      expect(authCode(local)).toBe(0) // local lines are trust
      assert(local._tag === "Ok")
      expect(local.parameters.server_version?.startsWith(String(cluster.version))).toBe(true)
      assert(cluster.dataDir !== undefined)
      const hba = Fs.readFileSync(Path.join(cluster.dataDir, "pg_hba.conf"), "utf8")
      expect(hba).toContain("host all pgfx_md5 127.0.0.1/32 md5\n")
      expect(hba).toContain("hostssl all pgfx_cert 127.0.0.1/32 cert\n")
      expect(cluster.users.map((u) => u.name)).toContain("pgfx_md5")
    }),
  )

  it.effect("TLS: CA, server cert with localhost/127.0.0.1 SANs, verify-full handshake and cert auth", () =>
    Effect.gen(function* () {
      const cluster = yield* TempCluster.TempCluster
      assert(cluster.tls !== undefined)
      const tls = cluster.tls
      expect(tls.caPem).toContain("BEGIN CERTIFICATE")
      const ca = new X509Certificate(Fs.readFileSync(tls.caFile))
      const server = new X509Certificate(Fs.readFileSync(tls.serverCertFile))
      expect(server.subjectAltName).toContain("DNS:localhost")
      expect(server.subjectAltName).toContain("IP Address:127.0.0.1")
      expect(server.checkIssued(ca)).toBe(true)
      expect(server.verify(ca.publicKey)).toBe(true)
      expect(ca.ca).toBe(true)

      const cert = yield* tls.clientCert("pgfx_cert")
      expect(Fs.existsSync(cert.certFile) && Fs.existsSync(cert.keyFile)).toBe(true)
      expect(new X509Certificate(cert.certPem).subject).toContain("CN=pgfx_cert")
      expect(yield* tls.clientCert("pgfx_cert")).toBe(cert) // cached

      const secure = (user: string, clientCert?: TempCluster.ClientCert) =>
        startupProbe(tcp(cluster), {
          user,
          database: "postgres",
          tls: { ca: tls.caPem, ...(clientCert ? { cert: clientCert.certPem, key: clientCert.keyPem } : {}) },
        }).pipe(Effect.map(authCode))
      expect(yield* secure("pgfx_trust")).toBe(0) // verify-full against localhost worked
      expect(yield* secure("pgfx_cert", cert)).toBe(0) // cert auth
      expect(yield* secure("pgfx_cert")).toBe("28000") // no client certificate
      const other = yield* tls.clientCert("pgfx_trust")
      expect(yield* secure("pgfx_cert", other)).toBe("28000") // CN does not match the role
    }),
  )

  it.effect("setHba rewrites pg_hba.conf and reloads; reload errors are typed", () =>
    Effect.gen(function* () {
      const cluster = yield* TempCluster.TempCluster
      const login = (user: string) =>
        startupProbe(tcp(cluster), { user, database: "postgres" }).pipe(Effect.map(authCode))
      yield* cluster.setHba([
        { type: "host", database: "all", user: "pgfx_trust", address: "127.0.0.1/32", method: "reject" },
        ...authLines,
      ])
      expect(yield* login("pgfx_trust")).toBe("28000")
      const bad = yield* Effect.flip(
        cluster.setHba([{ type: "host", database: "all", user: "all", address: "127.0.0.1/32", method: "cert" }]),
      )
      expect(bad.reason).toBe("Reload")
      expect(bad.logTail).toMatch(/not reloaded/)
      expect(yield* login("pgfx_trust")).toBe("28000") // the old rules stay in force
      yield* cluster.setHba(authLines)
      expect(yield* login("pgfx_trust")).toBe(0)
      yield* cluster.reload()
      const log = yield* cluster.serverLog()
      expect(log).toContain("ready to accept connections")
      expect(log).toContain("received SIGHUP")
    }),
  )

  it.effect("an external URL describes the server without starting one", () =>
    Effect.gen(function* () {
      const cluster = yield* TempCluster.TempCluster
      const external = yield* TempCluster.make({ url: `postgres://postgres@127.0.0.1:${cluster.port}/postgres` })
      expect(external.external).toBe(true)
      expect(external.port).toBe(cluster.port)
      expect(external.version).toBe(cluster.version)
      expect(external.dataDir).toBeUndefined()
      const error = yield* Effect.flip(external.reload())
      expect(error.reason).toBe("External")
    }).pipe(Effect.scoped),
  )
})

describe("TempCluster lifecycle", () => {
  it.live(
    "closing the scope stops the server and deletes its directory",
    () =>
      Effect.gen(function* () {
        const cluster = yield* TempCluster.make({ url: false }).pipe(Effect.scoped)
        assert(cluster.dataDir !== undefined)
        expect(Fs.existsSync(Path.dirname(cluster.dataDir))).toBe(false)
        expect(yield* sslProbe(tcp(cluster), 500)).toBeUndefined()
      }),
    SLOW,
  )

  it.live(
    "start-up failure is a TempClusterError carrying the server log",
    () =>
      withPrivateTmp((root) =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(
            TempCluster.make({ url: false, settings: { shared_buffers: "banana" } }).pipe(Effect.scoped),
          )
          expect(error._tag).toBe("TempClusterError")
          expect(error.reason).toBe("Start")
          expect(error.logTail).toContain("shared_buffers")
          expect(Fs.readdirSync(root)).toEqual([]) // nothing left behind
        }),
      ),
    SLOW,
  )

  it.live(
    "provisioning failure is typed and carries the backend's complaint",
    () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(
          TempCluster.make({ url: false, databases: [{ name: "d", owner: "ghost" }] }).pipe(Effect.scoped),
        )
        expect(error.reason).toBe("Provision")
        expect(error.logTail).toContain('role "ghost" does not exist')
      }),
    SLOW,
  )

  it.live("invalid options fail before anything is started", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(TempCluster.make({ url: false, settings: { port: 5 } }).pipe(Effect.scoped))
      expect(error.reason).toBe("InvalidOptions")
      const badName = yield* Effect.flip(
        TempCluster.make({ url: false, users: [{ name: "a\nb" }] }).pipe(Effect.scoped),
      )
      expect(badName.reason).toBe("InvalidOptions")
    }),
  )

  it.live(
    "interruption mid-start cleans up",
    () =>
      withPrivateTmp((root) =>
        Effect.gen(function* () {
          const fiber = yield* Effect.forkChild(TempCluster.make({ url: false }).pipe(Effect.scoped))
          // Wait until its directory exists (initdb is about to run or running), then interrupt.
          for (let i = 0; i < 400 && Fs.readdirSync(root).length === 0; i++) yield* sleep(5)
          expect(Fs.readdirSync(root)).toHaveLength(1)
          yield* sleep(100)
          yield* Fiber.interrupt(fiber)
          expect(Fs.readdirSync(root)).toEqual([])
        }),
      ),
    SLOW,
  )

  const fixture = fileURLToPath(new URL("./fixtures/exit-without-close.ts", import.meta.url))

  const runFixture = (mode: "exit" | "kill") =>
    Effect.callback<{ port: number; dataDir: string }>((resume) => {
      execFile(process.execPath, [fixture, mode], { env: { ...process.env, PGFX_TEST_URL: "" } }, (_error, stdout) => {
        // With "kill" the child dies by SIGKILL: an error, but stdout is what we need.
        const line = stdout.trim().split("\n").at(-1) ?? "{}"
        resume(Effect.succeed(JSON.parse(line) as { port: number; dataDir: string }))
      })
    })

  /** Run the fixture in its own process group and SIGTERM the whole group once the cluster is up. */
  const runFixtureGroupKilled = Effect.callback<{ port: number; dataDir: string }>((resume) => {
    const child = spawn(process.execPath, [fixture, "hang"], {
      detached: true,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, PGFX_TEST_URL: "" },
    })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      if (!out.includes("\n") || child.pid === undefined) return
      process.kill(-child.pid, "SIGTERM")
      resume(Effect.succeed(JSON.parse(out.trim()) as { port: number; dataDir: string }))
    })
  })

  const gone = (where: { port: number; dataDir: string }) =>
    Effect.gen(function* () {
      for (let i = 0; i < 200 && Fs.existsSync(Path.dirname(where.dataDir)); i++) yield* sleep(50)
      expect(Fs.existsSync(Path.dirname(where.dataDir))).toBe(false)
      expect(yield* sslProbe({ host: "127.0.0.1", port: where.port }, 500)).toBeUndefined()
    })

  it.live(
    "an abrupt process.exit still kills the server and removes its files",
    () =>
      Effect.gen(function* () {
        const where = yield* runFixture("exit")
        expect(where.port).toBeGreaterThan(0)
        // The exit hook is synchronous: everything is gone when the process is.
        expect(Fs.existsSync(Path.dirname(where.dataDir))).toBe(false)
        yield* gone(where)
      }),
    SLOW,
  )

  it.live(
    "SIGTERM to the whole process group (Ctrl-C, timeout) still cleans up (watchdog)",
    () =>
      Effect.gen(function* () {
        const where = yield* runFixtureGroupKilled
        expect(where.port).toBeGreaterThan(0)
        yield* gone(where)
      }),
    SLOW,
  )

  it.live(
    "a SIGKILLed test process still takes its server down (watchdog)",
    () =>
      Effect.gen(function* () {
        const where = yield* runFixture("kill")
        expect(where.port).toBeGreaterThan(0)
        yield* gone(where)
      }),
    SLOW,
  )
})
