/**
 * The buffer behind one notification or notice stream, fed synchronously from the socket's data
 * callback, with the buffering policy its consumer chose (see `BufferOptions`).
 *
 * Backpressure (`strategy: "suspend"` with a bounded buffer): when the queue is full, items wait
 * in an overflow list, the connection's socket stops being read ({@link ReadGate}), and a fiber
 * moves the overflow into the queue as the consumer takes items; reading resumes once the
 * overflow is empty. The server keeps the notifications meanwhile, so none is lost.
 *
 * @internal
 */
import { Cause, Context, Effect, type Fiber, Queue } from "effect"
import * as PgMetrics from "../../PgMetrics.ts"
import type { BufferOptions } from "../Options.ts"

/** Pauses reading a socket while at least one subscriber is blocked on a full buffer. */
export class ReadGate {
  private readonly socket: { pause(): unknown; resume(): unknown }
  private readonly blocked = new Set<object>()
  private closed = false

  constructor(socket: { pause(): unknown; resume(): unknown }) {
    this.socket = socket
  }

  block(key: object): void {
    if (this.closed) return
    if (this.blocked.size === 0) this.socket.pause()
    this.blocked.add(key)
  }

  unblock(key: object): void {
    if (this.blocked.delete(key) && this.blocked.size === 0 && !this.closed) this.socket.resume()
  }

  /** True while reading is paused. */
  get isBlocked(): boolean {
    return this.blocked.size > 0
  }

  close(): void {
    this.closed = true
    this.blocked.clear()
  }
}

/** Checks buffer options; returns an error message or undefined. */
export const invalidBufferOptions = (options: BufferOptions | undefined): string | undefined => {
  const size = options?.bufferSize
  if (size !== undefined && size !== "unbounded" && !(Number.isInteger(size) && size > 0)) {
    return `bufferSize must be a positive integer or "unbounded", got ${String(size)}`
  }
  const strategy = options?.strategy
  if (strategy !== undefined && strategy !== "suspend" && strategy !== "sliding" && strategy !== "dropping") {
    return `strategy must be "suspend", "sliding" or "dropping", got ${String(strategy)}`
  }
  return undefined
}

/** One consumer's buffer. `E` is the error the stream fails with when the source dies. */
export class Subscriber<A, E> {
  readonly queue: Queue.Queue<A, E | Cause.Done>
  readonly strategy: "suspend" | "sliding" | "dropping"
  readonly capacity: number
  /** Where fibers (backpressure drain) run and metrics are recorded. */
  readonly context: Context.Context<never>
  /** Whether dropped items count in `PgMetrics.notificationsDropped` (notifications and notices). */
  private readonly countDrops: boolean
  private overflow: Array<A> | undefined = undefined
  private gate: ReadGate | undefined = undefined
  private drainer: Fiber.Fiber<void> | undefined = undefined

  constructor(
    queue: Queue.Queue<A, E | Cause.Done>,
    options: BufferOptions | undefined,
    context: Context.Context<never>,
    countDrops = true,
  ) {
    this.countDrops = countDrops
    this.queue = queue
    this.strategy = options?.strategy ?? "suspend"
    const size = options?.bufferSize ?? "unbounded"
    this.capacity = size === "unbounded" ? Number.POSITIVE_INFINITY : size
    this.context = context
  }

  /** Creates the queue for `options` and the subscriber around it. */
  static make<A, E>(
    options: BufferOptions | undefined,
    settings?: { readonly countDrops: boolean },
  ): Effect.Effect<Subscriber<A, E>> {
    const size = options?.bufferSize ?? "unbounded"
    return Effect.flatMap(
      Queue.make<A, E | Cause.Done>(
        size === "unbounded" ? {} : { capacity: size, strategy: options?.strategy ?? "suspend" },
      ),
      (queue) =>
        Effect.map(
          Effect.context<never>(),
          (context) => new Subscriber<A, E>(queue, options, context, settings?.countDrops ?? true),
        ),
    )
  }

  get isOpen(): boolean {
    return this.queue.state._tag === "Open"
  }

  /** Delivers one item; `gate` is the read gate of the connection it came from. */
  offer(item: A, gate: ReadGate | undefined): void {
    if (this.overflow !== undefined) {
      this.overflow.push(item)
      if (gate !== undefined && gate !== this.gate) {
        // the source reconnected while we drain: hold back the new connection instead
        this.gate?.unblock(this)
        this.gate = gate
        gate.block(this)
      }
      return
    }
    const full = Queue.sizeUnsafe(this.queue) >= this.capacity
    if (!Queue.offerUnsafe(this.queue, item) || (full && this.strategy === "sliding")) {
      if (!this.isOpen) return
      if (this.strategy !== "suspend" || gate === undefined) {
        if (this.countDrops && Context.get(this.context, PgMetrics.Enabled)) {
          PgMetrics.notificationsDropped.updateUnsafe(1, this.context)
        }
        return
      }
      this.overflow = [item]
      this.gate = gate
      gate.block(this)
      this.drainer = Effect.runForkWith(this.context)(this.drain)
    }
  }

  /**
   * Delivers an item that must not be lost to a full buffer (a reconnection marker): with
   * `dropping`, the oldest buffered item makes room for it.
   */
  offerMarker(item: A, gate: ReadGate | undefined): void {
    if (this.overflow === undefined && this.strategy === "dropping" && Queue.sizeUnsafe(this.queue) >= this.capacity) {
      const taken = Queue.takeUnsafe(this.queue)
      if (taken !== undefined && taken._tag === "Success" && Context.get(this.context, PgMetrics.Enabled)) {
        PgMetrics.notificationsDropped.updateUnsafe(1, this.context)
      }
    }
    this.offer(item, gate)
  }

  private readonly drain: Effect.Effect<void> = Effect.suspend(() => {
    const items = this.overflow
    if (items === undefined || items.length === 0) {
      this.overflow = undefined
      this.gate?.unblock(this)
      this.gate = undefined
      this.drainer = undefined
      return Effect.void
    }
    this.overflow = []
    return Effect.flatMap(Queue.offerAll(this.queue, items), () => this.drain)
  })

  /** Ends the stream normally (the consumer's scope closed). */
  end(): void {
    this.release()
    Queue.endUnsafe(this.queue)
  }

  /** Fails the stream (the connection died, or was released). */
  fail(error: E): void {
    this.release()
    Queue.failCauseUnsafe(this.queue, Cause.fail(error))
  }

  private release(): void {
    this.overflow = undefined
    this.gate?.unblock(this)
    this.gate = undefined
    if (this.drainer !== undefined) {
      const drainer = this.drainer
      this.drainer = undefined
      drainer.interruptUnsafe()
    }
  }
}
