import type { Json } from '../../model/genai.js';

/** The human-readable text of a payload: strings as they are, chat-message lists by their contents, else JSON. */
export function payloadText(v: Json | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
