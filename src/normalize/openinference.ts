/** OpenInference (Arize/Phoenix) attributes. */
import type { Attributes } from '../model/otlp.js';
import type { Json, SpanType } from '../model/genai.js';
import { documentsFrom } from './documents.js';
import { type Draft, setInputs, setNum, setOutputs, setStr, setType } from './draft.js';
import { decodeJson, isObject, maybeJson, unflattenIndexed } from './util.js';

const KINDS = new Map<string, SpanType>([
  ['LLM', 'LLM'],
  ['CHAIN', 'CHAIN'],
  ['RETRIEVER', 'RETRIEVER'],
  ['TOOL', 'TOOL'],
  ['AGENT', 'AGENT'],
  ['EMBEDDING', 'EMBEDDING'],
  ['RERANKER', 'RERANKER'],
  ['GUARDRAIL', 'GUARDRAIL'],
  ['EVALUATOR', 'EVALUATOR'],
  // a prompt-template step is pipeline glue
  ['PROMPT', 'CHAIN'],
]);

/** input.value/output.value: JSON when the mime type says so; without a mime type, only obvious JSON. */
function ioValue(v: Json | undefined, mime: Json | undefined): Json | undefined {
  if (typeof v !== 'string') return v;
  if (typeof mime === 'string') return mime.includes('json') ? decodeJson(v) : v;
  return maybeJson(v);
}

/** `[{message: {role, content}}]` → `[{role, content}]`. */
function messagesFrom(items: Json[]): Json[] {
  return items.map((item) => (isObject(item) && isObject(item.message) ? item.message : item));
}

function hasIndexed(a: Attributes, prefix: string, leaves: readonly string[]): boolean {
  for (const leaf of leaves) if (a[prefix + leaf] !== undefined) return true;
  return false;
}

const MESSAGE_LEAVES = ['0.message.role', '0.message.content', '0.message.contents.0.message_content.text'] as const;
const DOCUMENT_LEAVES = ['0.document.content', '0.document.id'] as const;

export function applyOpenInference(d: Draft, a: Attributes): void {
  const kind = a['openinference.span.kind'];
  if (typeof kind === 'string') setType(d, KINDS.get(kind.toUpperCase()));

  // An LLM span's plain message lists read better than input.value/output.value, which hold the
  // framework's own serialization (LangChain's constructor JSON, generations) or the raw request.
  if (hasIndexed(a, 'llm.input_messages.', MESSAGE_LEAVES)) setInputs(d, messagesFrom(unflattenIndexed(a, 'llm.input_messages.')));
  if (hasIndexed(a, 'llm.output_messages.', MESSAGE_LEAVES)) setOutputs(d, messagesFrom(unflattenIndexed(a, 'llm.output_messages.')));
  setInputs(d, ioValue(a['input.value'], a['input.mime_type']));
  setOutputs(d, ioValue(a['output.value'], a['output.mime_type']));

  setStr(d, 'model', a['llm.model_name'] ?? a['embedding.model_name'] ?? a['reranker.model_name']);
  // A failed call has no llm.model_name (no response named it); the request's parameters still do.
  if (d.model === '' && a['llm.invocation_parameters'] !== undefined) {
    const params = decodeJson(a['llm.invocation_parameters']);
    if (isObject(params)) setStr(d, 'model', params.model ?? params.model_name);
  }
  setStr(d, 'provider', a['llm.provider']);
  setStr(d, 'provider', a['llm.system']);

  setNum(d, 'inputTokens', a['llm.token_count.prompt']);
  setNum(d, 'outputTokens', a['llm.token_count.completion']);
  setNum(d, 'totalTokens', a['llm.token_count.total']);
  setNum(d, 'cacheReadTokens', a['llm.token_count.prompt_details.cache_read']);
  setNum(d, 'reasoningTokens', a['llm.token_count.completion_details.reasoning']);
  setNum(d, 'cost', a['llm.cost.total']);

  if (d.documents === null) {
    if (hasIndexed(a, 'retrieval.documents.', DOCUMENT_LEAVES)) {
      d.documents = documentsFrom(unflattenIndexed(a, 'retrieval.documents.'));
    } else if (hasIndexed(a, 'reranker.output_documents.', DOCUMENT_LEAVES)) {
      d.documents = documentsFrom(unflattenIndexed(a, 'reranker.output_documents.'));
    }
  }

  const toolName = a['tool.name'] ?? a['tool_call.function.name'];
  if (d.tool === null && typeof toolName === 'string' && toolName !== '') {
    const args = a['tool_call.function.arguments'];
    d.tool = { name: toolName, arguments: args === undefined ? null : (decodeJson(args) ?? null), result: null };
  }
}
