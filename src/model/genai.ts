/**
 * What normalization derives from one span, whatever convention it was written in.
 * Field meanings follow MLflow's span model so traces read the same across instrumentations.
 */

export const SPAN_TYPES = [
  'LLM',
  'CHAT_MODEL',
  'RETRIEVER',
  'TOOL',
  'AGENT',
  'CHAIN',
  'EMBEDDING',
  'RERANKER',
  'PARSER',
  'MEMORY',
  'GUARDRAIL',
  'EVALUATOR',
  'UNKNOWN',
] as const;
export type SpanType = (typeof SPAN_TYPES)[number];

/** A JSON value as stored for inputs, outputs and tool payloads. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface TokenUsage {
  input_tokens: number | null;
  output_tokens: number | null;
  total_tokens: number | null;
  cache_read_tokens: number | null;
  reasoning_tokens: number | null;
}

export interface RetrievedDocument {
  id: string | null;
  content: string | null;
  score: number | null;
  uri: string | null;
}

export interface ToolCall {
  name: string;
  arguments: Json | null;
  result: Json | null;
}

/** The GenAI convention a span was mapped from (the ingest report's grouping); 'none' for plain spans. */
export const CONVENTIONS = ['mlflow', 'langfuse', 'openinference', 'vercel', 'traceloop', 'logfire', 'otel-genai', 'none'] as const;
export type Convention = (typeof CONVENTIONS)[number];

export interface NormalizedSpan {
  spanType: SpanType;
  convention: Convention;
  /** undefined when the span carries no input/output. */
  inputs: Json | undefined;
  outputs: Json | undefined;
  model: string;
  provider: string;
  /** null when the span reports no usage at all. */
  usage: TokenUsage | null;
  /** Cost in USD where the instrumentation reports it. */
  cost: number | null;
  sessionId: string;
  userId: string;
  documents: RetrievedDocument[];
  tool: ToolCall | null;
  /** Trace-level tags and metadata the span carries (OpenInference tag.tags, Vercel metadata, …). */
  tags: Record<string, string>;
  metadata: Record<string, string>;
  /** Status message, or the exception message from an `exception` event when the status has none. */
  errorMessage: string;
}
