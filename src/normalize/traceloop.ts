/** OpenLLMetry / Traceloop: SDK workflow/task spans and the legacy indexed prompt/completion form. */
import type { Attributes } from '../model/otlp.js';
import type { Json, SpanType } from '../model/genai.js';
import { addMeta, type Draft, setInputs, setNum, setOutputs, setStr, setType } from './draft.js';
import { decodeJson, forEachUnder, isObject, maybeJson, unflattenIndexed } from './util.js';

const KINDS = new Map<string, SpanType>([
  ['workflow', 'CHAIN'],
  ['task', 'CHAIN'],
  ['agent', 'AGENT'],
  ['tool', 'TOOL'],
]);

const REQUEST_TYPES = new Map<string, SpanType>([
  ['chat', 'CHAT_MODEL'],
  ['completion', 'LLM'],
  ['embedding', 'EMBEDDING'],
  ['rerank', 'RERANKER'],
]);

export function applyTraceloop(d: Draft, a: Attributes, spanName: string): void {
  const kind = a['traceloop.span.kind'];
  const type = typeof kind === 'string' ? KINDS.get(kind) : undefined;
  setType(d, type);
  setInputs(d, decodeJson(a['traceloop.entity.input']));
  setOutputs(d, decodeJson(a['traceloop.entity.output']));
  if (type === 'TOOL' && d.tool === null) {
    const name = a['traceloop.entity.name'];
    d.tool = { name: typeof name === 'string' && name !== '' ? name : spanName, arguments: null, result: null };
  }
  forEachUnder(a, 'traceloop.association.properties.', (key, value) => {
    if (key === 'session_id' || key === 'sessionId') setStr(d, 'sessionId', value);
    else if (key === 'user_id' || key === 'userId') setStr(d, 'userId', value);
    else addMeta(d, key, value);
  });
}

/** Traceloop JSON-encodes list-of-parts content; plain text stays as is. */
function legacyMessages(items: Json[]): Json[] {
  for (const m of items) {
    if (isObject(m) && typeof m.content === 'string' && m.content.startsWith('[')) {
      const parsed = maybeJson(m.content);
      if (Array.isArray(parsed)) m.content = parsed;
    }
  }
  return items;
}

function hasIndexed(a: Attributes, prefix: string): boolean {
  return a[`${prefix}0.role`] !== undefined || a[`${prefix}0.content`] !== undefined;
}

/** Runs after the GenAI module so `gen_ai.operation.name` wins over `llm.request.type`. */
export function applyTraceloopLegacy(d: Draft, a: Attributes): void {
  const requestType = a['llm.request.type'];
  if (typeof requestType === 'string') setType(d, REQUEST_TYPES.get(requestType));
  if (d.inputs === undefined && hasIndexed(a, 'gen_ai.prompt.')) {
    setInputs(d, legacyMessages(unflattenIndexed(a, 'gen_ai.prompt.')));
  }
  if (d.outputs === undefined && hasIndexed(a, 'gen_ai.completion.')) {
    setOutputs(d, legacyMessages(unflattenIndexed(a, 'gen_ai.completion.')));
  }
  setNum(d, 'totalTokens', a['llm.usage.total_tokens']);
  setNum(d, 'inputTokens', a['llm.usage.prompt_tokens']);
  setNum(d, 'outputTokens', a['llm.usage.completion_tokens']);
  setNum(d, 'cacheReadTokens', a['llm.usage.cache_read_input_tokens']);
}
