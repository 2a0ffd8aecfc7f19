import type { AssessmentRecord } from '../assessments/model.js';
import { nowNs } from '../assessments/model.js';
import type { Json } from '../model/genai.js';
import type { TraceRecord } from '../query/records.js';
import { scorerAssessmentId } from './sampling.js';
import type { Limiter } from './limiter.js';
import type { Scorer, ScorerInput, ScoreResult } from './scorers/types.js';

/** MLflow's scorer arguments from a trace: the root's inputs and outputs, and its latest valid expectations. */
export function scorerInput(trace: TraceRecord): ScorerInput {
  const root = trace.spans.find((s) => s.parentSpanId === '') ?? trace.spans[0];
  const expectations: Record<string, Json> = {};
  const newest = new Map<string, bigint>();
  for (const a of trace.assessments) {
    if (a.kind !== 'expectation' || !a.valid) continue;
    if ((newest.get(a.name) ?? -1n) > a.createdTimeNs) continue;
    newest.set(a.name, a.createdTimeNs);
    expectations[a.name] = a.value;
  }
  return { inputs: root?.inputs ?? null, outputs: root?.outputs ?? null, expectations, trace };
}

function metadataOf(r: ScoreResult): Record<string, string> {
  const m: Record<string, string> = { ...r.metadata };
  if (r.usage) {
    m.judge_model = r.usage.model;
    m.judge_latency_ms = String(Math.round(r.usage.latency_ms));
    m.judge_input_tokens = String(r.usage.input_tokens);
    m.judge_output_tokens = String(r.usage.output_tokens);
    if (r.usage.cost_usd !== null) m.judge_cost_usd = r.usage.cost_usd.toFixed(6);
  }
  return m;
}

export function toAssessment(project: string, trace: TraceRecord, scorer: Scorer, r: ScoreResult): AssessmentRecord {
  const now = nowNs();
  const traceId = trace.info.traceId;
  const assessmentId = scorerAssessmentId(project, traceId, scorer.name, scorer.version, r.key ?? '');
  // Re-scoring (after a restart, or offline again) rewrites the verdict but keeps when it was first made,
  // so quality-over-time buckets do not move.
  const previous = trace.assessments.find((a) => a.assessmentId === assessmentId);
  return {
    project,
    traceId,
    assessmentId,
    version: now,
    spanId: r.spanId ?? '',
    name: scorer.name,
    kind: 'feedback',
    value: r.error ? null : r.value,
    rationale: r.rationale,
    sourceType: scorer.sourceType,
    sourceId: scorer.sourceId,
    error: r.error ?? '',
    metadata: metadataOf(r),
    createdTimeNs: previous ? previous.createdTimeNs : now,
    lastUpdatedTimeNs: now,
    valid: true,
    deleted: false,
    overrides: '',
  };
}

/**
 * Runs scorers on one trace under the shared concurrency limit. A scorer that throws yields an error
 * assessment, so every sampled (trace, scorer) pair leaves a row: no silent gaps.
 */
export async function scoreTrace(project: string, trace: TraceRecord, scorers: readonly Scorer[], limiter: Limiter): Promise<AssessmentRecord[]> {
  const input = scorerInput(trace);
  const perScorer = await Promise.all(
    scorers.map((scorer) =>
      limiter.run(async () => {
        let results: ScoreResult[];
        try {
          results = await scorer.score(input);
        } catch (err) {
          results = [{ value: null, rationale: '', error: `scorer failed: ${(err as Error).message}` }];
        }
        return results.map((r) => toAssessment(project, trace, scorer, r));
      }),
    ),
  );
  return perScorer.flat();
}
