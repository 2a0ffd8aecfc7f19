/** Renders trace data as the readable text the LLM judges are shown. */
import { z } from 'zod';
import type { Json, RetrievedDocument } from '../../model/genai.js';
import type { SpanRecord, TraceRecord } from '../../query/records.js';

/** Characters kept per prompt part: enough for any normal request or answer, bounded for runaway payloads. */
export const PART_LIMIT = 20_000;
/** Smallest share a document gets when many share the documents part. */
const MIN_DOC_CHARS = 500;

export interface Rendered {
  text: string;
  truncated: boolean;
}

export function bounded(text: string, limit = PART_LIMIT): Rendered {
  if (text.length <= limit) return { text, truncated: false };
  return { text: `${text.slice(0, limit)}\n[… ${text.length - limit} more characters cut]`, truncated: true };
}

type JsonObject = { [key: string]: Json };
const isObject = (v: Json | null | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isMessage = (v: Json): v is JsonObject => isObject(v) && typeof v.role === 'string';
const isMessageList = (v: Json | null | undefined): v is JsonObject[] => Array.isArray(v) && v.length > 0 && v.every(isMessage);

/**
 * Text of a chat message in the shapes the normalizers keep: `content` as a string or a list of parts
 * (`{type: 'text', text}` OpenAI style, `{type: 'text', content}` OTel GenAI style), or OTel's `parts`.
 */
export function messageText(m: JsonObject): string {
  const partsText = (parts: Json[]): string =>
    parts
      .map((p) => (typeof p === 'string' ? p : isObject(p) ? [p.text, p.content].find((x) => typeof x === 'string') : undefined))
      .filter((x): x is string => typeof x === 'string')
      .join('\n');
  const content = m.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return partsText(content);
  const parts = m.parts;
  if (Array.isArray(parts)) return partsText(parts);
  return '';
}

/** Plain values read better as `key: value` lines than as escaped JSON (an email body full of "\n"). */
function valueText(v: Json): string {
  if (typeof v === 'string') return v;
  if (isObject(v)) {
    const entries = Object.entries(v);
    if (entries.length > 0 && entries.every(([, x]) => x === null || typeof x !== 'object')) {
      return entries.map(([k, x]) => (typeof x === 'string' && x.includes('\n') ? `${k}:\n${x}` : `${k}: ${String(x)}`)).join('\n');
    }
  }
  return JSON.stringify(v, null, 2);
}

function conversationText(messages: JsonObject[]): string {
  const turns = messages.filter((m) => m.role !== 'system' && m.role !== 'developer');
  const users = turns.filter((m) => m.role === 'user');
  // A single question stands alone; in a longer conversation the last message needs the turns before it.
  if (users.length === 1 && users[0]) return messageText(users[0]);
  return turns
    .map((m) => `${String(m.role)}: ${messageText(m)}`)
    .filter((line) => !/^\w+: $/.test(line))
    .join('\n\n');
}

/** The request as a person would read it: the human text of a chat, else the inputs as text. */
export function requestText(inputs: Json | null): string | null {
  if (inputs === null || inputs === '') return null;
  const messages = isMessageList(inputs) ? inputs : isObject(inputs) && isMessageList(inputs.messages) ? inputs.messages : undefined;
  const text = messages ? conversationText(messages) : '';
  return text.trim() !== '' ? text : valueText(inputs);
}

/** The response: the assistant's text when the outputs are a chat or a chat completion, else the outputs as text. */
export function responseText(outputs: Json | null): string | null {
  if (outputs === null || outputs === '') return null;
  let message: JsonObject | undefined;
  const list = isMessageList(outputs) ? outputs : isObject(outputs) && isMessageList(outputs.messages) ? outputs.messages : undefined;
  if (list) message = [...list].reverse().find((m) => m.role === 'assistant') ?? list[list.length - 1];
  else if (isMessage(outputs)) message = outputs;
  else if (isObject(outputs) && Array.isArray(outputs.choices)) {
    const first = outputs.choices[0];
    if (isObject(first) && isMessage(first.message ?? null)) message = first.message as JsonObject;
  }
  const text = message ? messageText(message) : '';
  return text.trim() !== '' ? text : valueText(outputs);
}

/** Every span of the trace once, in start order. */
export function allSpans(trace: TraceRecord): SpanRecord[] {
  const seen = new Map<string, SpanRecord>();
  for (const s of trace.spans) if (!seen.has(s.spanId)) seen.set(s.spanId, s);
  return [...seen.values()].sort((a, b) => (a.startTimeNs < b.startTimeNs ? -1 : a.startTimeNs > b.startTimeNs ? 1 : 0));
}

export const retrieverSpans = (trace: TraceRecord): SpanRecord[] => allSpans(trace).filter((s) => s.spanType === 'RETRIEVER');

/** Documents as numbered, tagged blocks; the part's bound is shared among them so every document is shown. */
export function documentsText(docs: readonly RetrievedDocument[]): Rendered {
  if (docs.length === 0) return { text: '(the retrievers returned no documents)', truncated: false };
  const share = Math.max(MIN_DOC_CHARS, Math.floor(PART_LIMIT / docs.length));
  let truncated = false;
  const blocks = docs.map((d, i) => {
    const attrs = [`index="${i + 1}"`];
    if (d.id) attrs.push(`id=${JSON.stringify(d.id)}`);
    if (d.uri) attrs.push(`uri=${JSON.stringify(d.uri)}`);
    const body = bounded(d.content ?? '(no content)', share);
    truncated ||= body.truncated;
    return `<document ${attrs.join(' ')}>\n${body.text}\n</document>`;
  });
  return { text: blocks.join('\n'), truncated };
}

const factsSchema = z.union([
  z
    .string()
    .min(1)
    .transform((s) => [s]),
  z.array(z.json()).min(1),
]);

/** What the judges compare against: `expected_facts` preferred, else `expected_response`; undefined when neither. */
export function expectationText(expectations: Record<string, Json>): { name: 'expected_facts' | 'expected_response'; text: string } | undefined {
  const facts = factsSchema.safeParse(expectations.expected_facts);
  if (facts.success) {
    return { name: 'expected_facts', text: facts.data.map((f) => `- ${typeof f === 'string' ? f : JSON.stringify(f)}`).join('\n') };
  }
  const response = expectations.expected_response;
  if (response !== undefined && response !== null && response !== '') {
    return { name: 'expected_response', text: responseText(response) ?? valueText(response) };
  }
  return undefined;
}
