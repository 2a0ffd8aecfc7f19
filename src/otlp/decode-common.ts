/**
 * What both OTLP request decoders share: the error they throw and the small value rules (attribute
 * assignment, non-finite doubles, 64-bit decimals, status codes, root parents, event names).
 */
import type { Json } from '../model/genai.js';
import type { Attributes, StatusCode } from '../model/otlp.js';

export type OtlpFormat = 'protobuf' | 'json';

/** The request body could not be decoded at all (maps to HTTP 400 / gRPC INVALID_ARGUMENT). */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/** Nesting bound for AnyValue / groups, against stack exhaustion (protobufjs' default limit too). */
export const MAX_DEPTH = 100;

/** Assigns an attribute; `__proto__` would otherwise replace the object's prototype. */
export function setAttr(out: Attributes, key: string, value: Json): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

/** Non-finite doubles become strings, as the OTel AnyValue→JSON mapping prescribes (JSON has no NaN). */
export function doubleValue(d: number): Json {
  return Number.isFinite(d) ? d : String(d);
}

function pad7(n: number): string {
  const s = String(n);
  return s.length >= 7 ? s : '0000000'.slice(s.length) + s;
}

/**
 * Unsigned 64-bit (lo, hi int32 halves) → decimal string without BigInt or Long division: split into
 * 24/24/16-bit limbs and accumulate in base 1e7 (every partial sum stays below 2^53).
 */
export function u64ToDecimal(lo: number, hi: number): string {
  const l = lo >>> 0;
  const h = hi >>> 0;
  if (h < 0x200000) return String(h * 4294967296 + l);
  const low = l & 0xffffff;
  const mid = ((l >>> 24) | (h << 8)) & 0xffffff;
  const high = h >>> 16;
  let d0 = low + mid * 6777216 + high * 6710656;
  let d1 = mid + high * 8147497;
  let d2 = high * 2;
  d1 += Math.floor(d0 / 1e7);
  d0 %= 1e7;
  d2 += Math.floor(d1 / 1e7);
  d1 %= 1e7;
  return d2 > 0 ? String(d2) + pad7(d1) + pad7(d0) : String(d1) + pad7(d0);
}

export function statusCode(n: number): StatusCode {
  // The enum is open on the wire; values outside the spec read as UNSET.
  return n === 1 || n === 2 ? n : 0;
}

const ZERO_PARENT = '0000000000000000';
/** Some exporters send an all-zero parent for a root span: it means "no parent". */
export const parentId = (id: string): string => (id === ZERO_PARENT ? '' : id);

/** LogRecord.event_name, else the `event.name` attribute that predates field 12. */
export function eventNameOf(fieldValue: string, attributes: Attributes): string {
  if (fieldValue !== '') return fieldValue;
  const attr = attributes['event.name'];
  return typeof attr === 'string' ? attr : '';
}
