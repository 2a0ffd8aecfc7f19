/**
 * The LLM judge client: one yes/no verdict with a rationale per call, over an OpenAI-compatible chat API, with
 * the retries, rate limit and cost accounting that online evaluation needs.
 */
import OpenAI from 'openai';
import { z } from 'zod';
import { retry, RetryGaveUp } from '../../component/retry.js';
import type { JudgeConfig } from '../config.js';
import type { JudgeUsage } from '../scorers/types.js';
import { JudgeError } from './errors.js';
import { parseJudgeReply, type Verdict } from './parse.js';
import { costUsd, priceFor } from './prices.js';
import { RpmLimiter } from './rate-limit.js';
import { classifyFailure, DEFAULT_BACKOFF, type BackoffOptions, type FailedTry } from './retry.js';

export { JudgeError } from './errors.js';
export type { Verdict } from './parse.js';

export interface JudgeRequest {
  /** MLflow style, `openai:/gpt-4.1-mini`. */
  model: string;
  system: string;
  user: string;
  /**
   * Also ask for one verdict per numbered item 1..n (the prompt must number them), e.g. per retrieved document.
   * The overall `result` is still asked for.
   */
  items?: number;
}

export interface Judgement {
  result: Verdict;
  rationale: string;
  usage: JudgeUsage;
  /** Per-item verdicts when `items` was asked for and the reply had exactly one per item. */
  items?: Verdict[];
}

export interface JudgeClientOptions {
  /** Where OPENAI_BASE_URL / OPENAI_API_KEY are read; process.env by default. */
  env?: Record<string, string | undefined>;
  backoff?: Partial<BackoffOptions>;
  /** Jitter source, replaceable for tests. */
  random?: () => number;
}

const SUPPORTED_PROVIDERS = ['openai'] as const;

/** `openai:/gpt-4.1-mini` → provider `openai`, name `gpt-4.1-mini`. Throws a non-retryable JudgeError otherwise. */
export function parseJudgeModel(model: string): { provider: (typeof SUPPORTED_PROVIDERS)[number]; name: string } {
  const m = /^([A-Za-z0-9_-]+):\/(.+)$/.exec(model);
  if (!m?.[1] || !m[2]) {
    throw new JudgeError(`judge model ${JSON.stringify(model)} must look like "openai:/gpt-4.1-mini"`, { retryable: false });
  }
  const provider = m[1].toLowerCase();
  if (provider !== 'openai') {
    throw new JudgeError(
      `judge model ${JSON.stringify(model)}: provider "${m[1]}" is not supported; supported: ${SUPPORTED_PROVIDERS.join(', ')} ` +
        '(any OpenAI-compatible server works through evaluator.judge.base_url)',
      { retryable: false },
    );
  }
  return { provider, name: m[2] };
}

/** The part of a chat completion the judge reads; anything else an OpenAI-compatible server sends is ignored. */
const completionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish(), refusal: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number().nonnegative(), completion_tokens: z.number().nonnegative() }).nullish(),
});

const verdictSchema = { type: 'string', enum: ['yes', 'no'] };

/** The reply shape asked for. Rationale comes first so that the model reasons before it commits to a verdict. */
function replySchema(items: number): Record<string, unknown> {
  const properties: Record<string, unknown> = { rationale: { type: 'string' } };
  const required = ['rationale'];
  if (items > 0) {
    properties.verdicts = {
      type: 'array',
      items: {
        type: 'object',
        properties: { index: { type: 'integer' }, result: verdictSchema },
        required: ['index', 'result'],
        additionalProperties: false,
      },
    };
    required.push('verdicts');
  }
  properties.result = verdictSchema;
  required.push('result');
  return { type: 'object', properties, required, additionalProperties: false };
}

type DroppableParam = 'temperature' | 'response_format';

export class JudgeClient {
  private readonly openai: OpenAI;
  private readonly limiter: RpmLimiter;
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  /**
   * Parameters a model's server rejected with 400 (reasoning models refuse temperature 0; some compatible
   * servers have no structured output). Dropped for that model from then on: the prompt still asks for JSON
   * and the lenient parser copes.
   */
  private readonly unsupported = new Map<string, Set<DroppableParam>>();

  constructor(
    private readonly cfg: JudgeConfig,
    opts: JudgeClientOptions = {},
  ) {
    const env = opts.env ?? process.env;
    const baseURL = nonEmpty(cfg.base_url) ?? nonEmpty(env.OPENAI_BASE_URL);
    const apiKey = nonEmpty(cfg.api_key) ?? nonEmpty(env.OPENAI_API_KEY);
    if (apiKey === undefined && baseURL === undefined) {
      throw new JudgeError(
        'LLM judge has no API key: set evaluator.judge.api_key or OPENAI_API_KEY, or evaluator.judge.base_url (or OPENAI_BASE_URL) for a server that needs none',
        { retryable: false },
      );
    }
    this.openai = new OpenAI({
      // Explicit values so that the SDK does not read process.env behind `opts.env`.
      baseURL: baseURL ?? 'https://api.openai.com/v1',
      // Self-hosted OpenAI-compatible servers often need no key, but the SDK insists on one.
      apiKey: apiKey ?? 'no-key',
      timeout: cfg.timeout_ms,
      // Our loop below is the only retry loop, so max_retries means what it says.
      maxRetries: 0,
    });
    this.limiter = new RpmLimiter(cfg.rpm_per_model);
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.random = opts.random ?? Math.random;
  }

  /**
   * One verdict. Throws JudgeError when none could be had after the retries (or the failure is not worth
   * retrying), and rethrows the signal's reason when aborted.
   */
  async judge(req: JudgeRequest, signal?: AbortSignal): Promise<Judgement> {
    const { name } = parseJudgeModel(req.model);
    const items = req.items ?? 0;
    // HTTP tries, renegotiated parameters included; the retry loop counts only failed rounds.
    let tries = 0;
    let started = 0;
    let raw: unknown;
    try {
      raw = await retry(
        async () => {
          for (;;) {
            await this.limiter.acquire(name, signal);
            tries++;
            started = performance.now();
            try {
              return await this.openai.chat.completions.create(this.body(req, name, items), {
                ...(signal ? { signal } : {}),
                timeout: this.cfg.timeout_ms,
                maxRetries: 0,
              });
            } catch (err) {
              // A rejected parameter is renegotiated at once; each can be dropped only once, so this cannot loop.
              if (err instanceof OpenAI.APIError && err.status === 400 && this.dropRejectedParam(name, err)) continue;
              throw err;
            }
          }
        },
        {
          backoff: this.backoff,
          maxRetries: this.cfg.max_retries,
          maxRetryAfterMs: this.backoff.maxRetryAfterMs,
          classify: (err) => classifyFailure(err, this.cfg.timeout_ms),
          random: this.random,
          ...(signal ? { signal } : {}),
        },
      );
    } catch (err) {
      // Anything but a give-up is the signal's reason (aborted during a call, a wait or the rate limit).
      if (!(err instanceof RetryGaveUp)) throw err;
      const failure = err.verdict as FailedTry;
      if (failure.aborted || signal?.aborted) throw signal?.reason ?? err.error;
      throw new JudgeError(`judge ${req.model} failed ${tries === 1 ? 'on its only try' : `after ${tries} tries`}: ${this.giveUpReason(failure, err.reason)}`, {
        retryable: failure.retryable,
        ...(failure.status !== undefined ? { status: failure.status } : {}),
        attempts: tries,
        cause: err.error,
      });
    }
    return this.read(req, name, items, raw, Math.round(performance.now() - started), tries);
  }

  /** What to report when the retry loop gave up. */
  private giveUpReason(f: FailedTry, why: RetryGaveUp['reason']): string {
    if (why === 'retry_after' && f.retryAfterMs !== undefined) {
      return `${f.reason} (server asked to retry after ${Math.ceil(f.retryAfterMs / 1000)} s, longer than the ${this.backoff.maxRetryAfterMs / 1000} s the judge waits)`;
    }
    return f.reason;
  }

  private body(req: JudgeRequest, name: string, items: number): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming {
    const dropped = this.unsupported.get(name);
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model: name,
      messages: [
        { role: 'system', content: req.system },
        { role: 'user', content: req.user },
      ],
    };
    // Verdicts should not change between runs on the same trace.
    if (!dropped?.has('temperature')) body.temperature = 0;
    if (!dropped?.has('response_format')) {
      body.response_format = { type: 'json_schema', json_schema: { name: 'judgement', strict: true, schema: replySchema(items) } };
    }
    return body;
  }

  private dropRejectedParam(name: string, err: unknown): boolean {
    if (!(err instanceof OpenAI.APIError)) return false;
    const text = `${err.param ?? ''} ${err.message}`;
    const param: DroppableParam | undefined = /temperature/i.test(text)
      ? 'temperature'
      : /response_format|json_schema/i.test(text)
        ? 'response_format'
        : undefined;
    const dropped = this.unsupported.get(name) ?? new Set<DroppableParam>();
    if (param === undefined || dropped.has(param)) return false;
    dropped.add(param);
    this.unsupported.set(name, dropped);
    return true;
  }

  private read(req: JudgeRequest, name: string, items: number, raw: unknown, latencyMs: number, tries: number): Judgement {
    const parsed = completionSchema.safeParse(raw);
    if (!parsed.success) {
      throw new JudgeError(`judge ${req.model} answered with something that is not a chat completion: ${z.prettifyError(parsed.error)}`, {
        retryable: false,
        attempts: tries,
      });
    }
    const inputTokens = parsed.data.usage?.prompt_tokens ?? 0;
    const outputTokens = parsed.data.usage?.completion_tokens ?? 0;
    const usage: JudgeUsage = {
      model: req.model,
      latency_ms: latencyMs,
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      cost_usd: parsed.data.usage ? costUsd(priceFor(name, this.cfg.prices), inputTokens, outputTokens) : null,
    };
    // Safe: min(1) above.
    const choice = parsed.data.choices[0]!;
    const fail = (message: string): JudgeError => new JudgeError(`judge ${req.model}: ${message}`, { retryable: false, attempts: tries, usage });
    if (choice.message.refusal) throw fail(`the model refused: ${choice.message.refusal}`);
    const content = choice.message.content ?? '';
    if (content.trim() === '' && choice.finish_reason === 'length') throw fail('the reply was cut off before any verdict (finish_reason "length")');
    try {
      const reply = parseJudgeReply(content, items);
      return { ...reply, usage };
    } catch (err) {
      if (err instanceof JudgeError) throw fail(err.message);
      throw err;
    }
  }
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s;
}
