import { z } from 'zod';

/** Scorer types with their options. Every scorer also has name, sample_rate, filter and version. */
const common = {
  /** Assessment name; defaults to the type (or the guideline's name). */
  name: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[A-Za-z0-9_.:-]+$/, 'must be letters, digits, "_", ".", ":" or "-"')
    .optional(),
  /** Fraction of traces scored, 0..1; a trace sampled at a low rate is sampled at every higher one. */
  sample_rate: z.number().min(0).max(1).default(1),
  /** Search-grammar filter a trace must match to be scored (e.g. "trace.status = 'OK'"). */
  filter: z.string().max(10_000).default(''),
  /** Change it when the scorer's meaning changes: the assessment id derives from it. */
  version: z.string().min(1).max(64).default('1'),
};
const judge = {
  ...common,
  /** Judge model, MLflow style: `openai:/gpt-4.1-mini`. Defaults to evaluator.judge.default_model. */
  model: z
    .string()
    .regex(/^[A-Za-z0-9_-]+:\/.+$/, 'must look like "openai:/gpt-4.1-mini"')
    .optional(),
};

export const scorerConfigSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('guidelines'), ...judge, guidelines: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]) }).strict(),
  z.object({ type: z.literal('relevance_to_query'), ...judge }).strict(),
  z.object({ type: z.literal('retrieval_groundedness'), ...judge }).strict(),
  z.object({ type: z.literal('retrieval_relevance'), ...judge }).strict(),
  z.object({ type: z.literal('retrieval_sufficiency'), ...judge }).strict(),
  z.object({ type: z.literal('correctness'), ...judge }).strict(),
  z.object({ type: z.literal('safety'), ...judge }).strict(),
  z.object({ type: z.literal('latency'), ...common, max_ms: z.number().positive() }).strict(),
  z.object({ type: z.literal('token_budget'), ...common, max_total_tokens: z.number().int().positive() }).strict(),
  z.object({ type: z.literal('error_free'), ...common }).strict(),
  z
    .object({ type: z.literal('output_match'), ...common, pattern: z.string().optional(), contains: z.string().optional(), negate: z.boolean().default(false) })
    .strict()
    .refine((s) => s.pattern !== undefined || s.contains !== undefined, 'needs `pattern` (a regular expression) or `contains`'),
  z.object({ type: z.literal('valid_json'), ...common }).strict(),
  z.object({ type: z.literal('tool_call'), ...common, tool: z.string().min(1), called: z.boolean().default(true) }).strict(),
  z
    .object({
      type: z.literal('custom'),
      ...common,
      module: z.string().min(1),
      export: z.string().min(1).default('default'),
      source_type: z.enum(['CODE', 'LLM_JUDGE']).default('CODE'),
    })
    .strict(),
]);
export type ScorerConfig = z.infer<typeof scorerConfigSchema>;
export type JudgeScorerConfig = Extract<
  ScorerConfig,
  { type: 'guidelines' | 'relevance_to_query' | 'retrieval_groundedness' | 'retrieval_relevance' | 'retrieval_sufficiency' | 'correctness' | 'safety' }
>;

export const judgeConfigSchema = z
  .object({
    default_model: z.string().default('openai:/gpt-4.1-mini'),
    /** OpenAI-compatible endpoint; OPENAI_BASE_URL when unset, else the OpenAI API. */
    base_url: z.url().optional(),
    /** OPENAI_API_KEY when unset. */
    api_key: z.string().optional(),
    timeout_ms: z.number().int().min(100).default(30_000),
    /** Tries after the first, with exponential backoff that honours Retry-After. */
    max_retries: z.number().int().min(0).max(10).default(3),
    /** Requests per minute per model; 0 is unlimited. */
    rpm_per_model: z.number().int().min(0).default(600),
    /** USD per million tokens, by model name without provider, for the cost in each assessment. */
    prices: z.record(z.string(), z.object({ input_per_million: z.number().min(0), output_per_million: z.number().min(0) }).strict()).default({}),
  })
  .strict();
export type JudgeConfig = z.infer<typeof judgeConfigSchema>;

export const evaluatorConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** A trace is scored once its root has ended and no span arrived for this long… */
    settle_ms: z.number().int().min(0).default(10_000),
    /** …or this long after its first span, whichever comes first. */
    max_wait_ms: z.number().int().min(0).default(300_000),
    /** Sampled traces held at most, settling or waiting for a scorer; more are counted as overflow and not scored. */
    max_pending_traces: z.number().int().min(1).default(50_000),
    /** Scorer calls in flight at most. */
    concurrency: z.number().int().min(1).max(1000).default(8),
    judge: judgeConfigSchema.prefault({}),
    scorers: z.array(scorerConfigSchema).default([]),
  })
  .strict();
export type EvaluatorConfig = z.infer<typeof evaluatorConfigSchema>;
