/**
 * GenAI events (span events or OTLP log records) to inputs/outputs. Covers the per-message events
 * (`gen_ai.{system,user,assistant,tool}.message`, `gen_ai.choice`), the newer single
 * `gen_ai.client.inference.operation.details` event, and the older `gen_ai.content.prompt/completion` events.
 */
import type { Attributes } from '../model/otlp.js';
import type { Json } from '../model/genai.js';
import { withSystemInstructions } from './messages.js';
import { decodeJson, isObject, type JsonObject } from './util.js';

export interface GenAIEvent {
  name: string;
  attributes: Attributes;
  body?: Json;
}

const ROLE_BY_EVENT: Record<string, string> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
};

/** The event's payload: the log body when structured, else the attributes minus the envelope keys. */
function payload(e: GenAIEvent): JsonObject {
  let body: Json | undefined = e.body;
  // Some SDKs serialize the body; a plain-string body is the message content itself.
  if (typeof body === 'string') body = decodeJson(body);
  if (isObject(body)) return body;
  const out: JsonObject = {};
  if (body !== undefined && body !== null) out.content = body;
  const attrs = e.attributes;
  const packed = attrs['gen_ai.event.content'];
  if (packed !== undefined) {
    const v = decodeJson(packed);
    if (isObject(v)) return v;
  }
  for (const k in attrs) {
    // gen_ai.system / event.name describe the envelope, not the message
    if (k.startsWith('gen_ai.') || k.startsWith('event.')) continue;
    if (!(k in out)) out[k] = attrs[k] as Json;
  }
  return out;
}

function attrOrBody(e: GenAIEvent, key: string): Json | undefined {
  const a = e.attributes[key];
  if (a !== undefined) return decodeJson(a);
  const b = e.body;
  if (isObject(b)) {
    const v = b[key];
    if (v !== undefined) return decodeJson(v);
  }
  return undefined;
}

export function genaiEventsToIO(events: ReadonlyArray<GenAIEvent>): { inputs?: Json; outputs?: Json } {
  const messages: Json[] = [];
  const choices: Json[] = [];
  let detailsIn: Json | undefined;
  let detailsOut: Json | undefined;
  let system: Json | undefined;
  let legacyPrompt: Json | undefined;
  let legacyCompletion: Json | undefined;

  for (const e of events) {
    const name = e.name;
    if (!name.startsWith('gen_ai.')) continue;
    const role = ROLE_BY_EVENT[name];
    if (role !== undefined) {
      const p = payload(e);
      messages.push(typeof p.role === 'string' ? p : { role, ...p });
    } else if (name === 'gen_ai.choice') {
      choices.push(payload(e));
    } else if (name === 'gen_ai.client.inference.operation.details') {
      detailsIn ??= attrOrBody(e, 'gen_ai.input.messages');
      detailsOut ??= attrOrBody(e, 'gen_ai.output.messages');
      system ??= attrOrBody(e, 'gen_ai.system_instructions');
    } else if (name === 'gen_ai.content.prompt') {
      legacyPrompt ??= attrOrBody(e, 'gen_ai.prompt');
    } else if (name === 'gen_ai.content.completion') {
      legacyCompletion ??= attrOrBody(e, 'gen_ai.completion');
    }
  }

  const out: { inputs?: Json; outputs?: Json } = {};
  const inputs = withSystemInstructions(detailsIn ?? (messages.length > 0 ? messages : legacyPrompt), system);
  const outputs = detailsOut ?? (choices.length > 0 ? choices : legacyCompletion);
  if (inputs !== undefined) out.inputs = inputs;
  if (outputs !== undefined) out.outputs = outputs;
  return out;
}
