import type { Json } from '../../model/genai.js';
import type { SourceType } from '../../assessments/model.js';
import type { TraceRecord } from '../../query/records.js';

/** What a scorer sees of a trace: the MLflow scorer arguments plus the whole trace, as the store holds it. */
export interface ScorerInput {
  /** The root span's inputs (the request). */
  inputs: Json | null;
  /** The root span's outputs (the response). */
  outputs: Json | null;
  /** Latest valid expectation per name. */
  expectations: Record<string, Json>;
  trace: TraceRecord;
}

/** Cost of one judge call, recorded in the assessment's metadata. */
export interface JudgeUsage {
  model: string;
  latency_ms: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | null;
}

/** One judgement. A scorer may return several (e.g. one per retriever span). */
export interface ScoreResult {
  value: Json;
  rationale: string;
  /** Set when the scorer could not judge (judge unreachable after retries, bad reply): value is then null. */
  error?: string;
  /** Span the judgement is about, if any. */
  spanId?: string;
  /** Distinguishes several results of one scorer on one trace (e.g. the span id); '' for the single one. */
  key?: string;
  usage?: JudgeUsage;
  metadata?: Record<string, string>;
}

export interface Scorer {
  /** Assessment name, e.g. `relevance_to_query` or a guideline's name. */
  readonly name: string;
  /** Bumped when the scorer's meaning changes; part of the assessment id. */
  readonly version: string;
  readonly sourceType: Extract<SourceType, 'LLM_JUDGE' | 'CODE'>;
  /** The judge model (`openai:/gpt-4.1-mini`) or the scorer's own id. */
  readonly sourceId: string;
  score(input: ScorerInput, signal?: AbortSignal): Promise<ScoreResult[]>;
}
