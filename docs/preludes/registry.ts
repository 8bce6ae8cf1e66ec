// Prelude for documentation fragments (test/docs.test.ts): a URL, and the composite codec of the
// custom-codec example in docs/types.md.
declare const url: string
declare const ComplexFromTuple: import("effect").Schema.Codec<
  { readonly real: number; readonly imag: number },
  readonly [number, number]
>
