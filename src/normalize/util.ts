/** Small value helpers shared by the convention modules. */
import type { Attributes } from '../model/otlp.js';
import type { Json } from '../model/genai.js';

export type JsonObject = { [key: string]: Json };

/** A string attribute as-is; numbers/booleans stringified because some SDKs send ids as ints. */
export function str(v: Json | undefined): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

/** A finite number, also from a numeric string (int64 beyond 2^53 arrives as a string). */
export function num(v: Json | undefined): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function firstNonSpace(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return c;
  }
  return -1;
}

function tryParse(s: string): Json | undefined {
  try {
    return JSON.parse(s) as Json;
  } catch {
    return undefined;
  }
}

/**
 * For attributes the convention declares JSON-encoded (MLflow, Traceloop entity IO, …): parse, and keep the raw
 * string when it is not JSON. The first-character test avoids paying for a thrown SyntaxError on plain text.
 */
export function decodeJson(v: Json | undefined): Json | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return v;
  const c = firstNonSpace(v);
  // { [ " - 0-9
  if (c === 123 || c === 91 || c === 34 || c === 45 || (c >= 48 && c <= 57)) {
    const parsed = tryParse(v);
    return parsed === undefined ? v : parsed;
  }
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v === 'null') return null;
  return v;
}

/** For attributes that are usually plain text but may hold a JSON object/array: parse only those. */
export function maybeJson(v: Json | undefined): Json | undefined {
  if (typeof v !== 'string') return v;
  const c = firstNonSpace(v);
  if (c !== 123 && c !== 91) return v;
  const parsed = tryParse(v);
  return parsed === undefined ? v : parsed;
}

/**
 * Rebuilds the JSON that flattening instrumentations spread over indexed keys
 * (`prefix.0.message.role`, `prefix.0.message.tool_calls.1.tool_call.id`, …). Numeric segments become array
 * indices; the result has no holes. Only called for spans that have such keys.
 */
export function unflattenIndexed(attrs: Attributes, prefix: string): Json[] {
  const root: Json[] = [];
  for (const key in attrs) {
    if (!key.startsWith(prefix)) continue;
    const segs = key.slice(prefix.length).split('.');
    if (segs.length === 0 || !isIndex(segs[0]!)) continue;
    let node: Json[] | JsonObject = root;
    let ok = true;
    for (let i = 0; i < segs.length - 1 && ok; i++) {
      const seg = segs[i]!;
      const nextIsIndex = isIndex(segs[i + 1]!);
      const existing: Json | undefined = Array.isArray(node) ? node[Number(seg)] : node[seg];
      let child: Json;
      if (existing === undefined) {
        child = nextIsIndex ? [] : {};
        if (Array.isArray(node)) node[Number(seg)] = child;
        else node[seg] = child;
      } else if (typeof existing === 'object' && existing !== null) {
        child = existing;
      } else {
        ok = false; // a leaf where a container is needed: malformed, drop the key
        break;
      }
      node = child as Json[] | JsonObject;
    }
    if (!ok) continue;
    const last = segs[segs.length - 1]!;
    const value = attrs[key] as Json;
    if (Array.isArray(node)) {
      if (isIndex(last)) node[Number(last)] = value;
    } else {
      node[last] = value;
    }
  }
  return compact(root) as Json[];
}

function isIndex(s: string): boolean {
  if (s.length === 0 || s.length > 6) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Sparse arrays (index gaps) would serialize as nulls; drop the gaps. */
function compact(v: Json): Json {
  if (Array.isArray(v)) {
    const out: Json[] = [];
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x !== undefined) out.push(compact(x));
    }
    return out;
  }
  if (isObject(v)) {
    for (const k in v) v[k] = compact(v[k]!);
  }
  return v;
}

/** Keys under a prefix, with the prefix removed (for `*.metadata.*`-style attribute families). */
export function forEachUnder(attrs: Attributes, prefix: string, fn: (rest: string, value: Json) => void): void {
  for (const key in attrs) {
    if (key.length > prefix.length && key.startsWith(prefix)) fn(key.slice(prefix.length), attrs[key]!);
  }
}
