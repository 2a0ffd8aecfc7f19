/** Hand-encoded protobuf pieces, for requests no serializer would produce. */
export function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** A length-delimited field. */
export const lenField = (field: number, payload: Buffer): Buffer => Buffer.concat([varint((field << 3) | 2), varint(payload.length), payload]);
/** A varint field. */
export const varintField = (field: number, value: number): Buffer => Buffer.concat([varint(field << 3), varint(value)]);

/** ExportTraceServiceRequest with one span made of `spanFields` (resourceSpans 1 → scopeSpans 2 → spans 2). */
export function traceRequestWithSpan(...spanFields: Buffer[]): Buffer {
  const span = Buffer.concat([lenField(1, Buffer.alloc(16, 0xab)), lenField(2, Buffer.alloc(8, 0xcd)), ...spanFields]);
  return lenField(1, lenField(2, lenField(2, span)));
}
