/** Vercel AI SDK telemetry (`ai.*` spans from `experimental_telemetry`). */
import type { Attributes } from '../model/otlp.js';
import type { Json, SpanType } from '../model/genai.js';
import { addMeta, type Draft, setInputs, setNum, setOutputs, setStr, setType } from './draft.js';
import { decodeJson } from './util.js';

const OPERATIONS = new Map<string, SpanType>([
  // The wrappers orchestrate steps (and tool calls); the do* children are the provider calls.
  ['ai.generateText', 'CHAIN'],
  ['ai.streamText', 'CHAIN'],
  ['ai.generateObject', 'CHAIN'],
  ['ai.streamObject', 'CHAIN'],
  ['ai.embed', 'CHAIN'],
  ['ai.embedMany', 'CHAIN'],
  ['ai.rerank', 'CHAIN'],
  ['ai.generateText.doGenerate', 'LLM'],
  ['ai.streamText.doStream', 'LLM'],
  ['ai.generateObject.doGenerate', 'LLM'],
  ['ai.streamObject.doStream', 'LLM'],
  ['ai.embed.doEmbed', 'EMBEDDING'],
  ['ai.embedMany.doEmbed', 'EMBEDDING'],
  ['ai.rerank.doRerank', 'RERANKER'],
  ['ai.toolCall', 'TOOL'],
]);

/** `openai.chat`, `openai.responses`, `anthropic.messages` → the provider itself. */
function providerName(v: unknown): string {
  if (typeof v !== 'string') return '';
  const dot = v.indexOf('.');
  return dot > 0 ? v.slice(0, dot) : v;
}

function outputs(a: Attributes): Json | undefined {
  const text = a['ai.response.text'] ?? a['ai.result.text'];
  const toolCalls = a['ai.response.toolCalls'] ?? a['ai.result.toolCalls'];
  if (toolCalls !== undefined) {
    const out: { [key: string]: Json } = { toolCalls: decodeJson(toolCalls) ?? null };
    if (typeof text === 'string' && text !== '') out.text = text;
    return out;
  }
  if (text !== undefined) return text;
  const object = a['ai.response.object'] ?? a['ai.result.object'];
  if (object !== undefined) return decodeJson(object);
  const embedding = a['ai.embedding'] ?? a['ai.embeddings'];
  if (embedding !== undefined) return decodeJson(embedding);
  return undefined;
}

export function applyVercel(d: Draft, a: Attributes, spanName: string): void {
  const op = a['ai.operationId'];
  setType(d, OPERATIONS.get(typeof op === 'string' ? op : spanName));

  setStr(d, 'model', a['ai.response.model']);
  setStr(d, 'model', a['ai.model.id']);
  const provider = providerName(a['ai.model.provider']);
  if (provider !== '') setStr(d, 'provider', provider);

  setNum(d, 'inputTokens', a['ai.usage.inputTokens'] ?? a['ai.usage.promptTokens']);
  setNum(d, 'outputTokens', a['ai.usage.outputTokens'] ?? a['ai.usage.completionTokens']);
  setNum(d, 'totalTokens', a['ai.usage.totalTokens']);
  setNum(d, 'cacheReadTokens', a['ai.usage.cachedInputTokens'] ?? a['ai.usage.inputTokenDetails.cacheReadTokens']);
  setNum(d, 'reasoningTokens', a['ai.usage.reasoningTokens'] ?? a['ai.usage.outputTokenDetails.reasoningTokens']);

  // doGenerate carries the provider-level message list; the wrapper carries {system, prompt | messages}.
  setInputs(d, decodeJson(a['ai.prompt.messages'] ?? a['ai.prompt'] ?? a['ai.value'] ?? a['ai.values']));
  setOutputs(d, outputs(a));

  const toolName = a['ai.toolCall.name'];
  if (d.tool === null && typeof toolName === 'string') {
    const args = a['ai.toolCall.args'] ?? a['ai.toolCall.input'];
    const result = a['ai.toolCall.result'] ?? a['ai.toolCall.output'];
    d.tool = {
      name: toolName,
      arguments: args === undefined ? null : (decodeJson(args) ?? null),
      result: result === undefined ? null : (decodeJson(result) ?? null),
    };
  }

  const prefix = 'ai.telemetry.metadata.';
  for (const key in a) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    const value = a[key];
    if (name === 'sessionId' || name === 'session_id') setStr(d, 'sessionId', value);
    else if (name === 'userId' || name === 'user_id') setStr(d, 'userId', value);
    else if (name === 'tags' && Array.isArray(value)) {
      for (const t of value) if (typeof t === 'string' && !(t in d.tags)) d.tags[t] = '';
    } else addMeta(d, name, value);
  }
}
