/** Langfuse SDK (v3+) OTel attributes: `langfuse.observation.*` and `langfuse.trace.*`. */
import type { Attributes } from '../model/otlp.js';
import type { Json, SpanType } from '../model/genai.js';
import { addMeta, addMetaObject, addTag, type Draft, setInputs, setOutputs, setStr, setType, setUsageObject } from './draft.js';
import { decodeJson, forEachUnder, isObject, num } from './util.js';

const TYPES = new Map<string, SpanType>([
  ['generation', 'LLM'],
  ['span', 'CHAIN'],
  ['chain', 'CHAIN'],
  ['agent', 'AGENT'],
  ['tool', 'TOOL'],
  ['retriever', 'RETRIEVER'],
  ['embedding', 'EMBEDDING'],
  ['guardrail', 'GUARDRAIL'],
  ['evaluator', 'EVALUATOR'],
  // a point-in-time `event` observation has no MLflow counterpart: left UNKNOWN
]);

/** cost_details: {input, output, total} in USD; total when given, else the sum. */
function totalCost(v: Json | undefined): number | null {
  if (!isObject(v)) return num(v);
  const total = num(v.total);
  if (total !== null) return total;
  let sum: number | null = null;
  for (const k in v) {
    const n = num(v[k]);
    if (n !== null) sum = (sum ?? 0) + n;
  }
  return sum;
}

export function applyLangfuse(d: Draft, a: Attributes, spanName: string): void {
  const type = a['langfuse.observation.type'];
  const spanType = typeof type === 'string' ? TYPES.get(type) : undefined;
  setType(d, spanType);

  setInputs(d, decodeJson(a['langfuse.observation.input']));
  setOutputs(d, decodeJson(a['langfuse.observation.output']));
  // Trace-level IO is set on the span that opened the trace; it stands in when the observation has none.
  setInputs(d, decodeJson(a['langfuse.trace.input']));
  setOutputs(d, decodeJson(a['langfuse.trace.output']));

  setStr(d, 'model', a['langfuse.observation.model.name']);
  setUsageObject(d, decodeJson(a['langfuse.observation.usage_details']));
  const cost = a['langfuse.observation.cost_details'];
  if (cost !== undefined && d.cost === null) d.cost = totalCost(decodeJson(cost));

  setStr(d, 'sessionId', a['langfuse.session.id']);
  setStr(d, 'userId', a['langfuse.user.id']);

  let tags: Json | undefined = a['langfuse.trace.tags'];
  if (typeof tags === 'string') tags = decodeJson(tags);
  if (Array.isArray(tags)) for (const t of tags) if (typeof t === 'string') addTag(d, t, '');

  addMetaObject(d, decodeJson(a['langfuse.trace.metadata']));
  forEachUnder(a, 'langfuse.trace.metadata.', (key, value) => addMeta(d, key, value));
  forEachUnder(a, 'langfuse.observation.metadata.', (key, value) => addMeta(d, key, value));

  if (a['langfuse.observation.level'] === 'ERROR') setStr(d, 'errorMessage', a['langfuse.observation.status_message']);

  if (spanType === 'TOOL' && d.tool === null) d.tool = { name: spanName, arguments: null, result: null };
}
