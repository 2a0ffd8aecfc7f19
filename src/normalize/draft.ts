/**
 * The span being built. Convention modules run in priority order and only fill what is still blank, so the
 * most specific convention on a span wins and generic GenAI keys fill the gaps.
 */
import type { Json, NormalizedSpan, RetrievedDocument, SpanType, ToolCall } from '../model/genai.js';
import { isObject, num, str } from './util.js';

export interface Draft {
  spanType: SpanType | undefined;
  inputs: Json | undefined;
  outputs: Json | undefined;
  model: string;
  provider: string;
  inputTokens: number | null;
  outputTokens: number | null;
  totalTokens: number | null;
  cacheReadTokens: number | null;
  reasoningTokens: number | null;
  cost: number | null;
  sessionId: string;
  userId: string;
  documents: RetrievedDocument[] | null;
  tool: ToolCall | null;
  tags: Record<string, string>;
  metadata: Record<string, string>;
  errorMessage: string;
}

export function newDraft(): Draft {
  return {
    spanType: undefined,
    inputs: undefined,
    outputs: undefined,
    model: '',
    provider: '',
    inputTokens: null,
    outputTokens: null,
    totalTokens: null,
    cacheReadTokens: null,
    reasoningTokens: null,
    cost: null,
    sessionId: '',
    userId: '',
    documents: null,
    tool: null,
    tags: {},
    metadata: {},
    errorMessage: '',
  };
}

type StringField = 'model' | 'provider' | 'sessionId' | 'userId' | 'errorMessage';
type TokenField = 'inputTokens' | 'outputTokens' | 'totalTokens' | 'cacheReadTokens' | 'reasoningTokens' | 'cost';

export function setStr(d: Draft, field: StringField, v: Json | undefined): void {
  if (d[field] !== '') return;
  const s = str(v);
  if (s !== '') d[field] = s;
}

export function setNum(d: Draft, field: TokenField, v: Json | undefined): void {
  if (d[field] !== null) return;
  d[field] = num(v);
}

export function setType(d: Draft, t: SpanType | undefined): void {
  if (d.spanType === undefined && t !== undefined) d.spanType = t;
}

export function setInputs(d: Draft, v: Json | undefined): void {
  if (d.inputs === undefined && v !== undefined) d.inputs = v;
}

export function setOutputs(d: Draft, v: Json | undefined): void {
  if (d.outputs === undefined && v !== undefined) d.outputs = v;
}

export function addTag(d: Draft, key: string, value: string): void {
  if (key !== '' && !(key in d.tags)) d.tags[key] = value;
}

/** Metadata is a string map in storage: non-string values keep their JSON form. */
export function addMeta(d: Draft, key: string, value: Json | undefined): void {
  if (key === '' || value === undefined || key in d.metadata) return;
  d.metadata[key] = typeof value === 'string' ? value : JSON.stringify(value);
}

/** Spreads a JSON object (OpenInference `metadata`, Pydantic AI `metadata`, …) into metadata. */
export function addMetaObject(d: Draft, v: Json | undefined): void {
  if (!isObject(v)) return;
  for (const k in v) addMeta(d, k, v[k]);
}

function pick(o: { [key: string]: Json }, keys: readonly string[]): Json | undefined {
  for (const k of keys) {
    const v = o[k];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

// Usage objects come in every vendor's spelling (MLflow, Langfuse usage_details, OpenAI-style).
const IN_KEYS = ['input_tokens', 'input', 'prompt_tokens', 'inputTokens', 'promptTokens'] as const;
const OUT_KEYS = ['output_tokens', 'output', 'completion_tokens', 'outputTokens', 'completionTokens'] as const;
const TOTAL_KEYS = ['total_tokens', 'total', 'totalTokens'] as const;
const CACHE_KEYS = ['cache_read_input_tokens', 'cache_read_tokens', 'input_cache_read', 'input_cached_tokens', 'cached_tokens', 'cacheReadTokens'] as const;
const REASONING_KEYS = ['reasoning_tokens', 'output_reasoning_tokens', 'output_reasoning', 'reasoningTokens'] as const;

export function setUsageObject(d: Draft, v: Json | undefined): void {
  if (!isObject(v)) return;
  setNum(d, 'inputTokens', pick(v, IN_KEYS));
  setNum(d, 'outputTokens', pick(v, OUT_KEYS));
  setNum(d, 'totalTokens', pick(v, TOTAL_KEYS));
  setNum(d, 'cacheReadTokens', pick(v, CACHE_KEYS));
  setNum(d, 'reasoningTokens', pick(v, REASONING_KEYS));
}

export function finish(d: Draft): NormalizedSpan {
  const anyTokens = d.inputTokens !== null || d.outputTokens !== null || d.totalTokens !== null || d.cacheReadTokens !== null || d.reasoningTokens !== null;
  let total = d.totalTokens;
  if (total === null && (d.inputTokens !== null || d.outputTokens !== null)) {
    total = (d.inputTokens ?? 0) + (d.outputTokens ?? 0);
  }
  return {
    spanType: d.spanType ?? 'UNKNOWN',
    convention: 'none',
    inputs: d.inputs,
    outputs: d.outputs,
    model: d.model,
    provider: d.provider,
    usage: anyTokens
      ? {
          input_tokens: d.inputTokens,
          output_tokens: d.outputTokens,
          total_tokens: total,
          cache_read_tokens: d.cacheReadTokens,
          reasoning_tokens: d.reasoningTokens,
        }
      : null,
    cost: d.cost,
    sessionId: d.sessionId,
    userId: d.userId,
    documents: d.documents ?? [],
    tool: d.tool,
    tags: d.tags,
    metadata: d.metadata,
    errorMessage: d.errorMessage,
  };
}
