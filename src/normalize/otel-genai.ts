/** OpenTelemetry GenAI semantic conventions (`gen_ai.*`), current and older attribute names. */
import type { Attributes } from '../model/otlp.js';
import type { SpanType } from '../model/genai.js';
import { documentsFrom } from './documents.js';
import { type Draft, setInputs, setNum, setOutputs, setStr, setType } from './draft.js';
import { withSystemInstructions } from './messages.js';
import { decodeJson } from './util.js';

/**
 * Every `gen_ai.operation.name` of the current GenAI conventions (semconv 1.39: chat, generate_content,
 * text_completion, embeddings, retrieval, create_agent, invoke_agent, execute_tool, invoke_workflow) and the
 * spellings earlier releases and instrumentations sent before those (completion, embedding, …).
 */
const OPERATION_TYPES = new Map<string, SpanType>([
  ['chat', 'CHAT_MODEL'],
  ['text_completion', 'LLM'],
  ['generate_content', 'LLM'],
  ['embeddings', 'EMBEDDING'],
  ['execute_tool', 'TOOL'],
  ['invoke_agent', 'AGENT'],
  ['create_agent', 'AGENT'],
  ['retrieval', 'RETRIEVER'],
  // A workflow is a pipeline of steps: MLflow's CHAIN.
  ['invoke_workflow', 'CHAIN'],
  // Replaced spellings.
  ['completion', 'LLM'],
  ['embedding', 'EMBEDDING'],
  ['tool', 'TOOL'],
  ['agent', 'AGENT'],
  ['workflow', 'CHAIN'],
  ['rerank', 'RERANKER'],
]);

export function operationType(op: unknown): SpanType | undefined {
  return typeof op === 'string' ? OPERATION_TYPES.get(op) : undefined;
}

export function applyOtelGenAI(d: Draft, a: Attributes): void {
  setType(d, operationType(a['gen_ai.operation.name']));

  // The response model names the snapshot that actually answered; the request model is the alias asked for.
  setStr(d, 'model', a['gen_ai.response.model']);
  setStr(d, 'model', a['gen_ai.request.model']);
  setStr(d, 'provider', a['gen_ai.provider.name']);
  setStr(d, 'provider', a['gen_ai.system']);

  setNum(d, 'inputTokens', a['gen_ai.usage.input_tokens'] ?? a['gen_ai.usage.prompt_tokens']);
  setNum(d, 'outputTokens', a['gen_ai.usage.output_tokens'] ?? a['gen_ai.usage.completion_tokens']);
  setNum(d, 'totalTokens', a['gen_ai.usage.total_tokens']);
  setNum(d, 'cacheReadTokens', a['gen_ai.usage.cache_read.input_tokens'] ?? a['gen_ai.usage.cache_read_input_tokens'] ?? a['gen_ai.usage.input_tokens.cached']);
  setNum(d, 'reasoningTokens', a['gen_ai.usage.reasoning.output_tokens'] ?? a['gen_ai.usage.reasoning_tokens'] ?? a['gen_ai.usage.output_tokens.reasoning']);
  setNum(d, 'cost', a['gen_ai.usage.cost']);

  setStr(d, 'sessionId', a['gen_ai.conversation.id']);

  if (d.inputs === undefined) {
    const messages = a['gen_ai.input.messages'];
    const system = a['gen_ai.system_instructions'];
    if (messages !== undefined || system !== undefined) {
      setInputs(d, withSystemInstructions(decodeJson(messages), decodeJson(system)));
    }
  }
  if (d.outputs === undefined) setOutputs(d, decodeJson(a['gen_ai.output.messages']));

  const docs = a['gen_ai.retrieval.documents'];
  if (docs !== undefined) {
    const parsed = decodeJson(docs);
    if (d.documents === null) d.documents = documentsFrom(parsed);
    setOutputs(d, parsed);
  }
  setInputs(d, a['gen_ai.retrieval.query.text']);

  const toolName = a['gen_ai.tool.name'];
  if (d.tool === null && typeof toolName === 'string' && toolName !== '') {
    const args = a['gen_ai.tool.call.arguments'];
    const result = a['gen_ai.tool.call.result'];
    d.tool = {
      name: toolName,
      arguments: args === undefined ? null : (decodeJson(args) ?? null),
      result: result === undefined ? null : (decodeJson(result) ?? null),
    };
  }

  // Pre-1.28 single-attribute prompt/completion (JSON strings).
  if (d.inputs === undefined) setInputs(d, decodeJson(a['gen_ai.prompt']));
  if (d.outputs === undefined) setOutputs(d, decodeJson(a['gen_ai.completion']));
}
