/**
 * A throwaway MIT Kerberos realm for the GSSAPI suite: a KDC (Debian's `krb5-kdc`) on a free
 * loopback port with its database, configuration and keytabs in a temp directory.
 *
 * `tempKdc` creates the realm (`kdb5_util create -s`), the principals (`kadmin.local addprinc`),
 * a service keytab (`ktadd`) readable by the PostgreSQL server account, starts `krb5kdc -n` and
 * waits until it accepts TCP connections. `kinit` fills a credentials cache from a principal's
 * keytab. Closing the scope stops the KDC and deletes the directory.
 *
 * A missing Kerberos program fails loudly (install `krb5-kdc krb5-admin-server krb5-user`); the
 * suite is never skipped.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { Effect, type Scope } from "effect"

export const realm = "PGFX.TEST"

export interface TempKdc {
  readonly dir: string
  /** The `krb5.conf` clients use (`KRB5_CONFIG`). */
  readonly krb5Conf: string
  /** The keytab holding every service principal asked for. */
  readonly serviceKeytab: string
  /** Fills a new credentials cache for `principal` (from its keytab) and returns its name (`FILE:...`). */
  readonly kinit: (principal: string) => Effect.Effect<string>
}

const tool = (name: string): string => {
  for (const dir of ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]) {
    const file = Path.join(dir, name)
    if (Fs.existsSync(file)) return file
  }
  throw new Error(
    `${name} not found: the GSSAPI suite needs MIT Kerberos (apt-get install krb5-kdc krb5-admin-server krb5-user)`,
  )
}

const freePort = (): Effect.Effect<number> =>
  Effect.callback<number>((resume) => {
    const server = Net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resume(Effect.succeed(port)))
    })
  })

const accepts = (port: number): Effect.Effect<boolean> =>
  Effect.callback<boolean>((resume) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(true))
    })
    socket.once("error", () => resume(Effect.succeed(false)))
  })

/** Starts a realm with `users` (each with a keytab for `kinit`) and `services` (in `serviceKeytab`). */
export const tempKdc = (options: {
  readonly users: ReadonlyArray<string>
  readonly services: ReadonlyArray<string>
}): Effect.Effect<TempKdc, never, Scope.Scope> =>
  Effect.gen(function* () {
    const programs = {
      kdb5_util: tool("kdb5_util"),
      kadmin: tool("kadmin.local"),
      krb5kdc: tool("krb5kdc"),
      kinit: tool("kinit"),
    }
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const d = Fs.mkdtempSync(Path.join(Os.tmpdir(), "pgfx-kdc-"))
        // the PostgreSQL server account reads the service keytab from here
        Fs.chmodSync(d, 0o755)
        return d
      }),
      (d) => Effect.sync(() => Fs.rmSync(d, { recursive: true, force: true })),
    )
    const port = yield* freePort()
    const krb5Conf = Path.join(dir, "krb5.conf")
    const kdcConf = Path.join(dir, "kdc.conf")
    Fs.writeFileSync(
      krb5Conf,
      [
        "[libdefaults]",
        `  default_realm = ${realm}`,
        "  dns_lookup_kdc = false",
        "  dns_lookup_realm = false",
        "  dns_canonicalize_hostname = false",
        "  rdns = false",
        "  udp_preference_limit = 1",
        "[realms]",
        `  ${realm} = {`,
        `    kdc = 127.0.0.1:${port}`,
        "  }",
        "[domain_realm]",
        `  localhost = ${realm}`,
        "",
      ].join("\n"),
    )
    Fs.writeFileSync(
      kdcConf,
      [
        "[kdcdefaults]",
        `  kdc_ports = ${port}`,
        `  kdc_tcp_ports = ${port}`,
        "[realms]",
        `  ${realm} = {`,
        `    database_name = ${Path.join(dir, "principal")}`,
        `    key_stash_file = ${Path.join(dir, "stash")}`,
        `    acl_file = ${Path.join(dir, "kadm5.acl")}`,
        `    kdc_ports = ${port}`,
        `    kdc_tcp_ports = ${port}`,
        "    supported_enctypes = aes256-cts-hmac-sha1-96:normal",
        "  }",
        "[logging]",
        `  kdc = FILE:${Path.join(dir, "kdc.log")}`,
        "",
      ].join("\n"),
    )
    Fs.writeFileSync(Path.join(dir, "kadm5.acl"), "")
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", KRB5_CONFIG: krb5Conf, KRB5_KDC_PROFILE: kdcConf }
    const run = (program: string, args: ReadonlyArray<string>) => {
      const result = spawnSync(program, args, { env, encoding: "utf8", timeout: 30_000 })
      if (result.status !== 0) {
        throw new Error(
          `${Path.basename(program)} ${args.join(" ")} failed: ${result.error?.message ?? ""}${result.stderr}`,
        )
      }
    }
    const kadmin = (query: string) => run(programs.kadmin, ["-r", realm, "-q", query])
    run(programs.kdb5_util, ["create", "-s", "-r", realm, "-P", "pgfx-master-key"])
    const keytabOf = (principal: string) => Path.join(dir, `${principal.replace(/\W/g, "_")}.keytab`)
    for (const user of options.users) {
      kadmin(`addprinc -randkey ${user}`)
      kadmin(`ktadd -k ${keytabOf(user)} ${user}`)
    }
    const serviceKeytab = Path.join(dir, "service.keytab")
    for (const service of options.services) {
      kadmin(`addprinc -randkey ${service}`)
      kadmin(`ktadd -k ${serviceKeytab} ${service}`)
    }
    // a test server only: the server account must read it
    Fs.chmodSync(serviceKeytab, 0o644)

    yield* Effect.acquireRelease(
      Effect.sync(() => spawn(programs.krb5kdc, ["-n", "-r", realm], { env, stdio: "ignore" })),
      (kdc: ChildProcess) => Effect.sync(() => kdc.kill("SIGTERM")),
    )
    let up = false
    for (let i = 0; i < 100 && !up; i++) {
      up = yield* accepts(port)
      if (!up) yield* Effect.sleep("50 millis")
    }
    if (!up) {
      const log = Fs.existsSync(Path.join(dir, "kdc.log")) ? Fs.readFileSync(Path.join(dir, "kdc.log"), "utf8") : ""
      return yield* Effect.die(new Error(`krb5kdc did not start listening on ${port}: ${log}`))
    }

    let caches = 0
    const kinit = (principal: string) =>
      Effect.sync(() => {
        const cache = `FILE:${Path.join(dir, `ccache-${++caches}`)}`
        run(programs.kinit, ["-k", "-t", keytabOf(principal), "-c", cache, principal])
        return cache
      })
    return { dir, krb5Conf, serviceKeytab, kinit }
  })
