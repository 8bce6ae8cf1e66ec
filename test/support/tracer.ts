/** An in-memory tracer for suites that assert on spans. */
import { Tracer } from "effect"

/** A tracer that records every span it creates, and the spans so far. */
export const recordingTracer = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    },
  })
  return { spans, tracer }
}
