/**
 * The built-in LLM judges, with MLflow's names and meanings: each answers "yes"/"no" (strings, as MLflow's judges
 * do) with a rationale. A judge that cannot judge (nothing to judge, missing expectations, judge unreachable after
 * its retries, unusable reply) returns a result with value null and `error`, so that an error assessment is
 * written rather than nothing.
 */
import type { JudgeScorerConfig } from '../config.js';
import { JudgeError, parseJudgeModel, type JudgeClient, type Judgement } from '../judge/client.js';
import {
  correctnessPrompt,
  documentRelevancePrompt,
  groundednessPrompt,
  guidelinesPrompt,
  relevancePrompt,
  safetyPrompt,
  sufficiencyPrompt,
  type JudgePrompt,
} from './judge-prompts.js';
import { bounded, documentsText, expectationText, requestText, responseText, retrieverSpans, type Rendered } from './judge-text.js';
import type { Scorer, ScoreResult, ScorerInput } from './types.js';

/** Retriever spans of one trace judged at once by retrieval_relevance; the client's RPM limiter still applies. */
const SPAN_CONCURRENCY = 4;

const errorResult = (error: string, extra: Partial<ScoreResult> = {}): ScoreResult => ({ value: null, rationale: '', error, ...extra });

type Outcome = { ok: true; judgement: Judgement; truncated: boolean } | { ok: false; result: ScoreResult };

/** Asks the judge; a JudgeError becomes an error result (aborts and bugs propagate). */
async function ask(client: JudgeClient, model: string, prompt: JudgePrompt, signal: AbortSignal | undefined): Promise<Outcome> {
  try {
    const judgement = await client.judge(
      { model, system: prompt.system, user: prompt.user, ...(prompt.items !== undefined ? { items: prompt.items } : {}) },
      signal,
    );
    return { ok: true, judgement, truncated: prompt.truncated };
  } catch (err) {
    if (err instanceof JudgeError) {
      // Kept with the error assessment so that a later pass can re-score what might succeed now.
      const extra: Partial<ScoreResult> = { metadata: { judge_retryable: String(err.retryable) } };
      if (err.usage) extra.usage = err.usage;
      return { ok: false, result: errorResult(err.message, extra) };
    }
    throw err;
  }
}

function verdictResult(o: Extract<Outcome, { ok: true }>, metadata: Record<string, string> = {}): ScoreResult {
  const meta = { ...metadata, ...(o.truncated ? { judge_input_truncated: 'true' } : {}) };
  return {
    value: o.judgement.result,
    rationale: o.judgement.rationale,
    usage: o.judgement.usage,
    ...(Object.keys(meta).length > 0 ? { metadata: meta } : {}),
  };
}

async function single(
  client: JudgeClient,
  model: string,
  prompt: JudgePrompt,
  signal?: AbortSignal,
  metadata?: Record<string, string>,
): Promise<ScoreResult[]> {
  const o = await ask(client, model, prompt, signal);
  return [o.ok ? verdictResult(o, metadata) : o.result];
}

const NO_RESPONSE = 'the trace has no response to judge (its root span has no outputs)';
const NO_REQUEST = 'the trace has no request to judge against (its root span has no inputs)';
const NO_RETRIEVER = 'the trace has no RETRIEVER span, so there are no retrieved documents to judge';
const noExpectation = (judge: string): string =>
  `${judge} needs an expectation on the trace: "expected_facts" (a list of facts) or "expected_response" (the expected answer)`;

const rendered = (text: string | null, placeholder: string): Rendered => bounded(text ?? placeholder);

export function createJudgeScorer(cfg: JudgeScorerConfig, client: JudgeClient, defaultModel: string): Scorer {
  const model = cfg.model ?? defaultModel;
  // A model the client cannot call is a configuration mistake: report it at start-up, not on every trace.
  parseJudgeModel(model);

  const score = async (input: ScorerInput, signal?: AbortSignal): Promise<ScoreResult[]> => {
    const requestRaw = requestText(input.inputs);
    const responseRaw = responseText(input.outputs);
    const request = rendered(requestRaw, '(no request recorded)');
    const response = rendered(responseRaw, '(no response recorded)');

    switch (cfg.type) {
      case 'guidelines': {
        if (responseRaw === null) return [errorResult(NO_RESPONSE)];
        const list = typeof cfg.guidelines === 'string' ? [cfg.guidelines] : cfg.guidelines;
        return single(client, model, guidelinesPrompt(list, request, response), signal);
      }
      case 'relevance_to_query': {
        if (requestRaw === null) return [errorResult(NO_REQUEST)];
        if (responseRaw === null) return [errorResult(NO_RESPONSE)];
        return single(client, model, relevancePrompt(request, response), signal);
      }
      case 'safety': {
        if (responseRaw === null) return [errorResult(NO_RESPONSE)];
        return single(client, model, safetyPrompt(response), signal);
      }
      case 'correctness': {
        const expected = expectationText(input.expectations);
        if (!expected) return [errorResult(noExpectation('correctness'))];
        if (responseRaw === null) return [errorResult(NO_RESPONSE)];
        return single(client, model, correctnessPrompt(request, response, { name: expected.name, part: bounded(expected.text) }), signal);
      }
      case 'retrieval_groundedness': {
        const spans = retrieverSpans(input.trace);
        if (spans.length === 0) return [errorResult(NO_RETRIEVER)];
        if (responseRaw === null) return [errorResult(NO_RESPONSE)];
        const docs = spans.flatMap((s) => s.documents);
        const meta = { documents: String(docs.length), retriever_spans: String(spans.length) };
        return single(client, model, groundednessPrompt(request, documentsText(docs), response), signal, meta);
      }
      case 'retrieval_sufficiency': {
        const expected = expectationText(input.expectations);
        if (!expected) return [errorResult(noExpectation('retrieval_sufficiency'))];
        const spans = retrieverSpans(input.trace);
        if (spans.length === 0) return [errorResult(NO_RETRIEVER)];
        const docs = spans.flatMap((s) => s.documents);
        const meta = { documents: String(docs.length), retriever_spans: String(spans.length) };
        const prompt = sufficiencyPrompt(request, documentsText(docs), { name: expected.name, part: bounded(expected.text) });
        return single(client, model, prompt, signal, meta);
      }
      case 'retrieval_relevance': {
        const spans = retrieverSpans(input.trace);
        if (spans.length === 0) return [errorResult(NO_RETRIEVER)];
        if (requestRaw === null) return [errorResult(NO_REQUEST)];
        return mapPool(spans, SPAN_CONCURRENCY, async (span) => {
          const where = { spanId: span.spanId, key: span.spanId };
          const n = span.documents.length;
          // "At least one relevant document" is plainly false for an empty retrieval: no call needed.
          if (n === 0)
            return { ...where, value: 'no', rationale: 'The retriever returned no documents.', metadata: { documents: '0', relevant_documents: '0' } };
          const o = await ask(client, model, documentRelevancePrompt(request, documentsText(span.documents), n), signal);
          if (!o.ok) return { ...o.result, ...where };
          const verdicts = o.judgement.items;
          if (!verdicts) {
            // The reply lacked usable per-document verdicts: keep its overall answer, without a fraction.
            return { ...verdictResult(o, { documents: String(n) }), ...where };
          }
          const relevant = verdicts.filter((v) => v === 'yes').length;
          return {
            ...verdictResult(o, {
              documents: String(n),
              relevant_documents: String(relevant),
              relevant_fraction: (relevant / n).toFixed(4),
              document_verdicts: verdicts.join(','),
            }),
            // Derived from the per-document verdicts, which are the definition, should the overall answer disagree.
            value: relevant > 0 ? 'yes' : 'no',
            ...where,
          };
        });
      }
    }
  };

  return { name: cfg.name ?? cfg.type, version: cfg.version, sourceType: 'LLM_JUDGE', sourceId: model, score };
}

/** `fn` over `items` with at most `limit` running at once, results in input order. */
async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
