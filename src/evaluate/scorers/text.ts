import type { Json } from '../../model/genai.js';

/** A payload as one text: strings as they are, anything else as its JSON. */
export function payloadText(v: Json | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/**
 * The texts a person reads in a payload: the payload's JSON (as `payloadText`) and, for structured payloads,
 * every string inside it as written, so that quotes, line breaks and `^` anchors in an email held in
 * `{"email": "…"}` or a chat message's `content` are matched as they appear, not as JSON escapes them.
 */
export function payloadTexts(v: Json | null | undefined): string[] {
  if (v === null || v === undefined) return [''];
  const out = [payloadText(v)];
  if (typeof v === 'string') return out;
  const visit = (x: Json, depth: number): void => {
    if (typeof x === 'string') out.push(x);
    else if (depth < 32 && x !== null && typeof x === 'object') for (const y of Array.isArray(x) ? x : Object.values(x)) visit(y, depth + 1);
  };
  visit(v, 0);
  return out;
}
