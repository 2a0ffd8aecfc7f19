/**
 * Per-trace OTLP messages re-framed from a walked request (`walkTraceProtobuf`): each is an
 * ExportTraceServiceRequest holding, for every resource and scope a trace's spans came in, the original
 * resource and scope fields and the original span bytes under new length prefixes. Decoded, it gives what
 * encoding the decoded spans again would (and keeps what the model drops: int64 and bytes values exact,
 * unknown fields, schema URLs).
 */
import { FRAME_TAGS, type WireResourceSpans, type WireScopeSpans, type WireSpan } from './decode-protobuf.js';

/** One span of a message, with the resource and scope it came in (the same objects for spans that shared them). */
export interface TracePart {
  rs: WireResourceSpans;
  ss: WireScopeSpans;
  span: WireSpan;
}

const varintBytes = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);
/** A length-delimited field with a one-byte tag. */
const fieldBytes = (payload: number): number => 1 + varintBytes(payload) + payload;

interface ScopeRun {
  ss: WireScopeSpans;
  spans: WireSpan[];
  payload: number;
}
interface ResourceRun {
  rs: WireResourceSpans;
  scopes: ScopeRun[];
  payload: number;
}

/** Parts → resources and scopes in order, consecutive parts of the same ones sharing one group. */
function runsOf(parts: readonly TracePart[]): ResourceRun[] {
  const out: ResourceRun[] = [];
  let rr: ResourceRun | undefined;
  let sr: ScopeRun | undefined;
  for (const { rs, ss, span } of parts) {
    if (rr?.rs !== rs) {
      rr = { rs, scopes: [], payload: rs.headBytes };
      out.push(rr);
      sr = undefined;
    }
    if (sr?.ss !== ss) {
      sr = { ss, spans: [], payload: ss.headBytes };
      rr.scopes.push(sr);
    }
    sr.spans.push(span);
    sr.payload += fieldBytes(span.end - span.start);
  }
  for (const r of out) for (const s of r.scopes) r.payload += fieldBytes(s.payload);
  return out;
}

/** The encoded size of the message `encodeTraceMessage(parts)` builds. */
export function traceMessageBytes(parts: readonly TracePart[]): number {
  let n = 0;
  for (const r of runsOf(parts)) n += fieldBytes(r.payload);
  return n;
}

function putVarint(out: Buffer, pos: number, value: number): number {
  let v = value;
  let p = pos;
  while (v >= 0x80) {
    out[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[p++] = v;
  return p;
}

function putRanges(out: Buffer, pos: number, body: Buffer, ranges: readonly number[]): number {
  let p = pos;
  for (let i = 0; i < ranges.length; i += 2) p += body.copy(out, p, ranges[i], ranges[i + 1]);
  return p;
}

/**
 * The message holding `parts` (spans of `body`, in order; parts of one resource and scope must be
 * consecutive to share a group, as a walk in request order gives them).
 */
export function encodeTraceMessage(body: Buffer, parts: readonly TracePart[]): Buffer {
  const runs = runsOf(parts);
  let size = 0;
  for (const r of runs) size += fieldBytes(r.payload);
  const out = Buffer.allocUnsafe(size);
  let p = 0;
  for (const r of runs) {
    out[p++] = FRAME_TAGS.resourceSpans;
    p = putVarint(out, p, r.payload);
    p = putRanges(out, p, body, r.rs.head);
    for (const s of r.scopes) {
      out[p++] = FRAME_TAGS.scopeSpans;
      p = putVarint(out, p, s.payload);
      p = putRanges(out, p, body, s.ss.head);
      for (const span of s.spans) {
        out[p++] = FRAME_TAGS.spans;
        p = putVarint(out, p, span.end - span.start);
        p += body.copy(out, p, span.start, span.end);
      }
    }
  }
  if (p !== size) throw new Error(`trace message framing: wrote ${p} of ${size} bytes`);
  return out;
}
