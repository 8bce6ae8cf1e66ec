/**
 * CancelRequest: a short-lived second connection that asks the postmaster to interrupt the
 * backend identified by (process id, secret key). The postmaster closes that connection once it
 * has signalled the backend, which is how we know the cancel has been delivered.
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import * as net from "node:net"

/** Where to send a cancel request: the same address the session is connected to. */
export type CancelTarget =
  | { readonly _tag: "tcp"; readonly host: string; readonly port: number }
  | { readonly _tag: "unix"; readonly path: string }

/**
 * Sends a CancelRequest and calls `done` when the server has closed the connection, an error
 * occurred, or `timeoutMs` elapsed — whichever comes first. Never throws.
 */
export const sendCancel = (
  target: CancelTarget,
  processId: number,
  secretKey: Uint8Array,
  timeoutMs: number,
  done: () => void,
): void => {
  let finished = false
  const finish = () => {
    if (finished) return
    finished = true
    clearTimeout(timer)
    socket.destroy()
    done()
  }
  const socket =
    target._tag === "tcp" ? net.connect({ host: target.host, port: target.port }) : net.connect({ path: target.path })
  const timer = setTimeout(finish, timeoutMs)
  socket.on("connect", () => {
    socket.write(Frontend.build((w) => Frontend.cancelRequest(w, processId, secretKey)))
  })
  socket.on("data", () => {})
  socket.on("error", finish)
  socket.on("close", finish)
}
