/**
 * Previews as a reader wants them: the text of the last user message of a chat input and the text of the
 * assistant's answer, whatever message shape the convention used (OTel parts, OpenAI chat and choices,
 * MLflow's request/response objects, OpenInference and Traceloop flattened lists, LangChain messages).
 * A payload that is not chat yields undefined, and the caller shows the payload itself.
 */
import type { Json } from '../model/genai.js';
import { isObject, type JsonObject } from './util.js';

const USER_ROLES = new Set(['user', 'human']);
const ASSISTANT_ROLES = new Set(['assistant', 'ai', 'model']);

/** Text of a message's content: a string, OpenAI/OTel parts lists, or OpenInference `contents`. */
function contentText(v: Json | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const texts: string[] = [];
    for (const p of v) {
      if (typeof p === 'string') texts.push(p);
      else if (isObject(p)) {
        const inner = isObject(p.message_content) ? p.message_content : p;
        // OTel parts: {type:'text', content}; OpenAI parts: {type:'text', text}.
        if (inner.type !== undefined && inner.type !== 'text' && inner.type !== 'output_text') continue;
        const t = typeof inner.text === 'string' ? inner.text : typeof inner.content === 'string' ? inner.content : undefined;
        if (t !== undefined) texts.push(t);
      }
    }
    return texts.length ? texts.join('\n') : undefined;
  }
  return undefined;
}

/** A message object's role, seen through wrappers (`{message: …}`, LangChain's `kwargs`). */
function unwrap(m: Json): JsonObject | undefined {
  if (!isObject(m)) return undefined;
  let o: JsonObject = m;
  for (let depth = 0; depth < 4; depth++) {
    const inner = isObject(o.message) ? o.message : isObject(o.kwargs) ? o.kwargs : undefined;
    if (inner === undefined) break;
    o = inner;
  }
  return o;
}

function roleOf(m: JsonObject): string {
  const r = m.role ?? m.type;
  return typeof r === 'string' ? r.toLowerCase() : '';
}

function messageText(m: JsonObject): string | undefined {
  return contentText(m.parts) ?? contentText(m.content) ?? contentText(m.contents) ?? contentText(m.text);
}

/** The message list a payload carries, if it is chat: a list itself, or under messages/choices/… . */
function messageList(v: Json | undefined): Json[] | undefined {
  if (Array.isArray(v)) {
    // LangChain's generate() inputs are a list of message lists.
    if (v.length > 0 && Array.isArray(v[v.length - 1])) return v[v.length - 1] as Json[];
    return v;
  }
  if (isObject(v)) {
    for (const key of ['messages', 'choices', 'output_messages', 'generations']) {
      const inner = v[key];
      if (Array.isArray(inner)) return messageList(inner);
    }
  }
  return undefined;
}

function lastText(v: Json | undefined, roles: ReadonlySet<string>, anyRole: boolean): string | undefined {
  const list = messageList(v);
  if (!list) return undefined;
  let fallback: string | undefined;
  for (let i = list.length - 1; i >= 0; i--) {
    const m = unwrap(list[i]!);
    if (!m) continue;
    const role = roleOf(m);
    const text = messageText(m);
    if (text === undefined) continue;
    if (roles.has(role)) return text;
    // Choices and generations often carry no role: they are the answer.
    if (anyRole && fallback === undefined && (role === '' || role === 'chatgeneration' || role === 'generation')) fallback = text;
  }
  return fallback;
}

/** The last user message's text of a chat input; undefined when the input is not chat. */
export function requestText(inputs: Json | undefined): string | undefined {
  return lastText(inputs, USER_ROLES, false);
}

/** The assistant's text of a chat output; undefined when the output is not chat. */
export function responseText(outputs: Json | undefined): string | undefined {
  return lastText(outputs, ASSISTANT_ROLES, true);
}
