import type { StoredSpanRow } from '../exporters/clickhouse/tables.js';
import type { TokenTotals } from './records.js';

/** The few span columns a trace summary is aggregated from. */
export type SpanSummaryRow = Pick<
  StoredSpanRow,
  'trace_id' | 'span_id' | 'parent_span_id' | 'model' | 'input_tokens' | 'output_tokens' | 'total_tokens' | 'session_id' | 'user_id' | 'tags' | 'metadata'
>;

export interface TraceAggregate {
  span_count: number;
  token_usage: TokenTotals;
  models: string[];
  session_id: string;
  user_id: string;
  tags: Record<string, string>;
  metadata: Record<string, string>;
}

/** A dated snapshot's suffix: gpt-4o-mini-2024-07-18, claude-3-5-sonnet-20241022. */
const SNAPSHOT = /^-(\d{4}-\d{2}-\d{2}|\d{8})$/;

/**
 * The trace's models, sorted, without an alias beside its own snapshot: one call's span may carry the
 * requested alias (gpt-4o-mini) where another of the same call names the snapshot that answered.
 */
export function distinctModels(models: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const m of models) {
    let aliasOfAnother = false;
    for (const other of models) if (other !== m && other.startsWith(m) && SNAPSHOT.test(other.slice(m.length))) aliasOfAnother = true;
    if (!aliasOfAnother) out.push(m);
  }
  return out.sort();
}

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));
const hasUsage = (r: SpanSummaryRow): boolean => r.input_tokens !== null || r.output_tokens !== null || r.total_tokens !== null;

/**
 * Sums token usage over the spans that report it, skipping any span below another span that reports it:
 * a wrapper span (Vercel's ai.generateText, an agent run) already includes its children's calls.
 * Session, user, tags and metadata: the root's win, then spans closer to the root.
 */
export function aggregateTrace(spans: readonly SpanSummaryRow[]): TraceAggregate {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const depth = (s: SpanSummaryRow): number => {
    let d = 0;
    let p = byId.get(s.parent_span_id);
    while (p && d < 10_000) {
      d++;
      p = byId.get(p.parent_span_id);
    }
    return d;
  };
  const coveredByAncestor = (s: SpanSummaryRow): boolean => {
    let p = byId.get(s.parent_span_id);
    for (let guard = 0; p && guard < 10_000; guard++) {
      if (hasUsage(p)) return true;
      p = byId.get(p.parent_span_id);
    }
    return false;
  };

  const usage = { input_tokens: 0, output_tokens: 0, total_tokens: 0 };
  const models = new Set<string>();
  for (const s of spans) {
    if (s.model) models.add(s.model);
    if (!hasUsage(s) || coveredByAncestor(s)) continue;
    const input = num(s.input_tokens) ?? 0;
    const output = num(s.output_tokens) ?? 0;
    usage.input_tokens += input;
    usage.output_tokens += output;
    usage.total_tokens += num(s.total_tokens) ?? input + output;
  }

  // Deepest first, so that merging lets spans nearer the root overwrite.
  const ordered = [...spans].sort((a, b) => depth(b) - depth(a));
  let session_id = '';
  let user_id = '';
  const tags: Record<string, string> = {};
  const metadata: Record<string, string> = {};
  for (const s of ordered) {
    if (s.session_id) session_id = s.session_id;
    if (s.user_id) user_id = s.user_id;
    Object.assign(tags, s.tags);
    Object.assign(metadata, s.metadata);
  }
  return { span_count: spans.length, token_usage: usage, models: distinctModels(models), session_id, user_id, tags, metadata };
}
