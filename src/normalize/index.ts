/**
 * Span normalization: one NormalizedSpan from a span written in any of the GenAI conventions in use.
 *
 * A single pass over the attribute keys records which convention families are present, and only those
 * modules run. Modules run most-specific first and fill only blank fields (see draft.ts), so a span carrying
 * several conventions (Vercel's doGenerate also sets gen_ai.*, Pydantic AI sets gen_ai.* plus its own keys)
 * takes each field from the convention that knows it best.
 */
import type { Convention, NormalizedSpan } from '../model/genai.js';
import type { Attributes, Resource, Scope, Span } from '../model/otlp.js';
import { documentsFrom, looksLikeDocumentList } from './documents.js';
import { addMeta, addTag, type Draft, finish, newDraft, setInputs, setOutputs, setStr } from './draft.js';
import { genaiEventsToIO } from './events.js';
import { applyLangfuse } from './langfuse.js';
import { applyLogfire } from './logfire.js';
import { applyMlflow } from './mlflow.js';
import { applyOpenInference } from './openinference.js';
import { applyOtelGenAI } from './otel-genai.js';
import { applyTraceloop, applyTraceloopLegacy } from './traceloop.js';
import { applyVercel } from './vercel.js';
import { decodeJson, isObject } from './util.js';

export { genaiEventsToIO } from './events.js';
export type { GenAIEvent } from './events.js';

const GENAI = 1;
const GENAI_INDEXED = 2;
const OPENINFERENCE = 4;
const LLM_PREFIX = 8;
const TRACELOOP = 16;
const VERCEL = 32;
const MLFLOW = 64;
const LANGFUSE = 128;
const LOGFIRE = 256;

/** Which convention families a span uses, from key prefixes (first character first, to keep it cheap). */
function scan(a: Attributes): number {
  let f = 0;
  for (const k in a) {
    switch (k.charCodeAt(0)) {
      case 97: // a
        if (k.startsWith('ai.')) f |= VERCEL;
        break;
      case 101: // e
        if (k.startsWith('embedding.')) f |= OPENINFERENCE;
        break;
      case 102: // f
        if (k === 'final_result') f |= LOGFIRE;
        break;
      case 103: // g
        if (k.startsWith('gen_ai.')) {
          f |= GENAI;
          if (k.startsWith('gen_ai.prompt.') || k.startsWith('gen_ai.completion.')) f |= GENAI_INDEXED;
        }
        break;
      case 105: // i
        if (k.startsWith('input.')) f |= OPENINFERENCE;
        break;
      case 108: // l
        if (k.startsWith('llm.')) f |= LLM_PREFIX;
        else if (k.startsWith('langfuse.')) f |= LANGFUSE;
        else if (k.startsWith('logfire.')) f |= LOGFIRE;
        break;
      case 109: // m
        if (k.startsWith('mlflow.')) f |= MLFLOW;
        break;
      case 111: // o
        if (k.startsWith('openinference.') || k.startsWith('output.')) f |= OPENINFERENCE;
        else if (k === 'operation.cost') f |= LOGFIRE;
        break;
      case 112: // p
        if (k.startsWith('pydantic_ai.')) f |= LOGFIRE;
        break;
      case 114: // r
        if (k.startsWith('retrieval.') || k.startsWith('reranker.')) f |= OPENINFERENCE;
        break;
      case 116: // t
        if (k.startsWith('traceloop.')) f |= TRACELOOP;
        else if (k.startsWith('tool.') || k.startsWith('tool_call.')) f |= OPENINFERENCE;
        else if (k === 'tool_arguments' || k === 'tool_response') f |= LOGFIRE;
        break;
    }
  }
  return f;
}

/** Keys several conventions share (OpenInference, Langfuse, Pydantic AI, plain OTel). */
function applyCommon(d: Draft, a: Attributes, code: number): void {
  setStr(d, 'sessionId', a['session.id']);
  setStr(d, 'userId', a['user.id']);
  setStr(d, 'userId', a['enduser.id']);
  const metadata = a.metadata;
  if (metadata !== undefined) {
    const m = decodeJson(metadata);
    if (isObject(m)) {
      // LangChain's own ls_* keys (ls_provider, ls_model_name, ls_temperature, …) describe the call, not
      // the trace: they fill provider and model where those are blank and stay out of the metadata.
      setStr(d, 'provider', m.ls_provider);
      setStr(d, 'model', m.ls_model_name);
      for (const k in m) if (!k.startsWith('ls_')) addMeta(d, k, m[k]);
    }
  }
  const tags = a['tag.tags'];
  if (Array.isArray(tags)) for (const t of tags) if (typeof t === 'string') addTag(d, t, '');
  if (code === 2) setStr(d, 'errorMessage', a['error.type']);
}

/** Cross-convention completion: tool payloads ⇄ inputs/outputs, documents from retriever outputs. */
function complete(d: Draft, spanName: string): void {
  if (d.tool === null && d.spanType === 'TOOL') d.tool = { name: spanName, arguments: null, result: null };
  const tool = d.tool;
  if (tool !== null) {
    if (tool.arguments === null && d.inputs !== undefined) tool.arguments = d.inputs;
    if (tool.result === null && d.outputs !== undefined) tool.result = d.outputs;
    if (tool.arguments !== null) setInputs(d, tool.arguments);
    if (tool.result !== null) setOutputs(d, tool.result);
  }
  if (d.documents === null && (d.spanType === 'RETRIEVER' || looksLikeDocumentList(d.outputs))) {
    d.documents = documentsFrom(d.outputs);
    // A generic step (Traceloop's `task`, an untyped span) that returns documents is a retrieval: typing it
    // so lets retrieval scorers and `span.type = 'RETRIEVER'` searches find it.
    if (d.documents?.length && (d.spanType === 'CHAIN' || d.spanType === 'UNKNOWN')) d.spanType = 'RETRIEVER';
  }
}

export function normalizeSpan(span: Span, _resource: Resource, _scope: Scope): NormalizedSpan {
  const a = span.attributes;
  const d = newDraft();
  const code = span.status.code;
  setStr(d, 'errorMessage', span.status.message);

  let genaiEvents = false;
  const events = span.events;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    // A recorded-then-handled exception on an OK span is not the span's error.
    if (e.name === 'exception') {
      if (code !== 1) setStr(d, 'errorMessage', e.attributes['exception.message'] ?? e.attributes['exception.type']);
    } else if (e.name.startsWith('gen_ai.')) {
      genaiEvents = true;
    }
  }

  const f = scan(a);
  if (f & MLFLOW) applyMlflow(d, a, span.name);
  if (f & LANGFUSE) applyLangfuse(d, a, span.name);
  if (f & (OPENINFERENCE | LLM_PREFIX)) applyOpenInference(d, a);
  if (f & VERCEL) applyVercel(d, a, span.name);
  if (f & TRACELOOP) applyTraceloop(d, a, span.name);
  if (f & LOGFIRE) applyLogfire(d, a);
  if (f & GENAI) applyOtelGenAI(d, a);
  if (f & (GENAI_INDEXED | LLM_PREFIX)) applyTraceloopLegacy(d, a);

  if (genaiEvents && (d.inputs === undefined || d.outputs === undefined)) {
    const io = genaiEventsToIO(events);
    setInputs(d, io.inputs);
    setOutputs(d, io.outputs);
  }

  applyCommon(d, a, code);
  complete(d, span.name);
  const n = finish(d);
  n.convention = conventionOf(f);
  return n;
}

/** The convention that mapped most of a span: the first module that ran (most specific first). */
function conventionOf(f: number): Convention {
  if (f & MLFLOW) return 'mlflow';
  if (f & LANGFUSE) return 'langfuse';
  if (f & OPENINFERENCE) return 'openinference';
  if (f & VERCEL) return 'vercel';
  if (f & (TRACELOOP | GENAI_INDEXED)) return 'traceloop';
  if (f & LOGFIRE) return 'logfire';
  if (f & GENAI) return 'otel-genai';
  if (f & LLM_PREFIX) return 'openinference';
  return 'none';
}
