/**
 * Connection URIs as libpq reads them:
 * `postgres[ql]://[user[:password]@][host[:port][,host[:port]...]][/dbname][?key=value&...]`.
 *
 * - Every part is percent-decoded (`+` stays a plus, as in libpq); `%2F...` in the host is a unix
 *   socket directory.
 * - IPv6 addresses go in brackets: `postgres://[::1]:5432/db`.
 * - Several hosts, each with its own port: `postgres://a:5432,b:5433/db`; a host without a port
 *   gets 5432.
 * - Query parameters are libpq keywords (`sslmode`, `host`, `target_session_attrs`, ...); as in
 *   asyncpg, an unknown parameter becomes a server setting sent at startup.
 *
 * @internal
 */
import { configError } from "./ConfigError.ts"
import { applyKeyword, type Layer, parsePorts } from "./Keywords.ts"

/** True for `postgres://` and `postgresql://` strings. */
export const isUri = (text: string): boolean => /^postgres(ql)?:\/\//i.test(text)

const decode = (text: string, key: string): string => {
  if (!text.includes("%")) return text
  let decoded: string
  try {
    decoded = decodeURIComponent(text)
  } catch {
    throw configError("url", key, `invalid percent-encoded token in the ${key} part of the URI`)
  }
  if (decoded.includes("\0")) throw configError("url", key, `forbidden value %00 in the ${key} part of the URI`)
  return decoded
}

/** Splits `host[:port]` and `[v6]:port` items of a host list. */
const parseHostList = (spec: string): { hosts: Array<string>; ports: Array<string> } => {
  const hosts: Array<string> = []
  const ports: Array<string> = []
  for (const item of spec.split(",")) {
    let host: string
    let port = ""
    if (item.startsWith("[")) {
      const close = item.indexOf("]")
      if (close < 0) throw configError("url", "host", "missing closing bracket of an IPv6 host address in the URI")
      host = item.slice(1, close)
      if (host === "") throw configError("url", "host", "empty IPv6 host address in the URI")
      const rest = item.slice(close + 1)
      if (rest.startsWith(":")) port = rest.slice(1)
      else if (rest !== "") {
        throw configError("url", "host", "unexpected character after an IPv6 host address in the URI")
      }
    } else {
      const colon = item.lastIndexOf(":")
      host = colon < 0 ? item : item.slice(0, colon)
      port = colon < 0 ? "" : item.slice(colon + 1)
    }
    hosts.push(decode(host, "host"))
    ports.push(decode(port, "port"))
  }
  return { hosts, ports }
}

/** Parses a URI into a layer; unknown query parameters go to `serverSettings`. */
export const parseUri = (uri: string): Layer => {
  const layer: Layer = {}
  const settings: Record<string, string> = {}
  let rest = uri.replace(/^postgres(ql)?:\/\//i, "")
  let query = ""
  const q = rest.indexOf("?")
  if (q >= 0) {
    query = rest.slice(q + 1)
    rest = rest.slice(0, q)
  }
  let path: string | undefined
  const slash = rest.indexOf("/")
  if (slash >= 0) {
    path = rest.slice(slash + 1)
    rest = rest.slice(0, slash)
  }
  const at = rest.lastIndexOf("@")
  if (at >= 0) {
    const userinfo = rest.slice(0, at)
    rest = rest.slice(at + 1)
    const colon = userinfo.indexOf(":")
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon)
    if (user !== "") layer.user = decode(user, "user")
    if (colon >= 0) applyKeyword(layer, "password", decode(userinfo.slice(colon + 1), "password"), "url")
  }
  if (rest !== "") {
    const { hosts, ports } = parseHostList(rest)
    if (hosts.some((h) => h !== "")) layer.host = hosts.length === 1 ? hosts[0] : hosts
    if (ports.some((p) => p !== "")) {
      const parsed = parsePorts(ports.join(","), "url")
      layer.port = parsed.length === 1 ? parsed[0] : parsed
    }
  }
  if (path !== undefined && path !== "") layer.database = decode(path, "dbname")
  if (query !== "") {
    for (const pair of query.split("&")) {
      if (pair === "") continue
      const eq = pair.indexOf("=")
      if (eq < 0) throw configError("url", decode(pair, "parameter"), 'missing "=" in a URI query parameter')
      const key = decode(pair.slice(0, eq), "parameter")
      const value = decode(pair.slice(eq + 1), key)
      applyKeyword(layer, key, value, "url", (k, v) => {
        settings[k] = v
      })
    }
  }
  if (Object.keys(settings).length > 0) layer.serverSettings = settings
  return layer
}
