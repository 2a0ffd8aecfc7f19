import type { AssessmentRecord } from '../assessments/model.js';
import { nowNs } from '../assessments/model.js';
import type { Json } from '../model/genai.js';
import { isoToNs, type TraceDetailView } from '../query/views.js';
import { scorerAssessmentId } from './sampling.js';
import type { Limiter } from './limiter.js';
import type { Scorer, ScorerInput, ScoreResult } from './scorers/types.js';

/**
 * An API timestamp as text that sorts in time order. The API trims the fraction ("…:00.123Z", "…:00.123000001Z"),
 * so plain string order can put the later of two times in one millisecond first.
 */
const timeKey = (iso: string): string => iso.replace(/(?:\.(\d{1,9}))?Z$/, (_m, f: string | undefined) => `.${(f ?? '').padEnd(9, '0')}Z`);

/** MLflow's scorer arguments from a trace: the root's inputs and outputs, and its latest valid expectations. */
export function scorerInput(trace: TraceDetailView): ScorerInput {
  const root = trace.spans.find((s) => s.parent_span_id === null) ?? trace.spans[0];
  const expectations: Record<string, Json> = {};
  const newest = new Map<string, string>();
  for (const a of trace.assessments) {
    if (a.kind !== 'expectation' || !a.valid) continue;
    const at = timeKey(a.create_time);
    if ((newest.get(a.name) ?? '') > at) continue;
    newest.set(a.name, at);
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

export function toAssessment(project: string, trace: TraceDetailView, scorer: Scorer, r: ScoreResult): AssessmentRecord {
  const now = nowNs();
  const traceId = trace.info.trace_id;
  const assessmentId = scorerAssessmentId(project, traceId, scorer.name, scorer.version, r.key ?? '');
  // Re-scoring (after a restart, or offline again) rewrites the verdict but keeps when it was first made,
  // so quality-over-time buckets do not move.
  const previous = trace.assessments.find((a) => a.assessment_id === assessmentId);
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
    createdTimeNs: previous ? isoToNs(previous.create_time) : now,
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
export async function scoreTrace(project: string, trace: TraceDetailView, scorers: readonly Scorer[], limiter: Limiter): Promise<AssessmentRecord[]> {
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
