import type { ClickHouseClient } from '@clickhouse/client';
import { compileFilter, compileOrderBy } from './filter/index.js';
import { aggregateTrace, type SpanSummaryRow } from './trace-aggregates.js';
import {
  assessmentSummarySql,
  currentAssessmentsSql,
  foldAssessmentSummary,
  summarizeAssessments,
  toRecord,
  type AssessmentSummaryRow,
  type CurrentAssessmentRow,
} from '../assessments/read.js';
import { logEventRecord, spanRecords, type SpanEventRow } from './span-records.js';
import { earlierSpan, placeholderTraceRow, TRACE_ROW_VERSION, type StoredSpanRow, type StoredTraceRow } from '../exporters/clickhouse/tables.js';
import type { TraceInfoRecord, TraceRecord } from './records.js';
import { foldTraceMeta, traceMetaSql, type TraceMeta, type TraceMetaRow } from './trace-meta.js';

export interface SearchParams {
  project: string;
  fromNs: bigint;
  toNs: bigint;
  filter: string;
  orderBy: string[];
  maxResults: number;
  offset: number;
  /** Only these traces (MLflow's search by run); absent: all. */
  traceIds?: readonly string[];
}

export interface SearchResult {
  traces: TraceInfoRecord[];
  /** Offset of the next page, or null when this page is the last. */
  nextOffset: number | null;
}

/** The `traces` columns a reader selects (TRACE_COLUMNS). */
type TraceColumns = Omit<StoredTraceRow, 'project' | 'version'>;

const TRACE_COLUMNS =
  'trace_id, request_time_ns, request_time, execution_duration_ns, state, name, service_name, request_preview, response_preview, root_span_id';
/** What a page returns: previews included, which the read in order fetches for the page's rows only. */
const PAGE_COLUMNS = 'trace_id, request_time_ns, execution_duration_ns, state, name, service_name, request_preview, response_preview, root_span_id';

/** Read side of the store: trace search and trace detail, on the reader connection. */
export class TraceReader {
  constructor(private readonly client: ClickHouseClient) {}

  async search(p: SearchParams): Promise<SearchResult> {
    const inRange = `project = {project:String}
          AND request_time >= fromUnixTimestamp64Nano({from_ns:Int64})
          AND request_time < fromUnixTimestamp64Nano({to_ns:Int64})`;
    const compiled = compileFilter(p.filter, {
      projectParam: 'project',
      // Span conditions look only at the traces of the window: the spans table is sorted by trace id, so
      // this is a key lookup instead of a scan of every span that started in (or after) the window.
      spanTimeScope: `start_time >= fromUnixTimestamp64Nano({from_ns:Int64}) AND trace_id IN (SELECT trace_id FROM traces WHERE ${inRange})`,
      // Spans of the window's traces start inside it, or shortly after for traces ending past `to`; an
      // hour covers all but the longest-running traces.
      spanIndexScope: 'start_time >= fromUnixTimestamp64Nano({from_ns:Int64}) AND start_time < fromUnixTimestamp64Nano({to_ns:Int64}) + INTERVAL 1 HOUR',
      eventTimeScope: `time >= fromUnixTimestamp64Nano({from_ns:Int64}) AND trace_id IN (SELECT trace_id FROM traces WHERE ${inRange})`,
      // Only the window's traces can be returned: their assessments decide, not the project's history.
      assessmentScope: `trace_id IN (SELECT trace_id FROM traces WHERE ${inRange})`,
    });
    const conditions = p.traceIds ? [...compiled.conditions, 'trace_id IN {only_ids:Array(String)}'] : compiled.conditions;
    const filter = conditions.length ? `AND ${conditions.join(' AND ')}` : '';
    // One row per trace, the root's over placeholders, before any filter applies; without a subquery
    // that deduplicates every trace of the window first, so that the default order (the table's key,
    // newest first) is read in order and stops after the page instead of sorting the whole window. A
    // root row (the highest version) always stands; a placeholder only where the window holds no root
    // row of its trace (the set of those is read only among the window's placeholders). Copies of a row
    // (resent, not yet merged) are adjacent in the order and LIMIT 1 BY keeps the first.
    const root = TRACE_ROW_VERSION.root;
    const query = `
      SELECT ${PAGE_COLUMNS} FROM traces
      WHERE ${inRange}
        AND (version = ${root} OR trace_id NOT IN (
          SELECT trace_id FROM traces WHERE ${inRange} AND version = ${root}
            AND trace_id IN (SELECT trace_id FROM traces WHERE ${inRange} AND version != ${root})))
        ${filter}
      ORDER BY ${compileOrderBy(p.orderBy)}
      LIMIT 1 BY trace_id
      LIMIT {limit:UInt32} OFFSET {offset:UInt32}`;
    const params = { project: p.project, from_ns: p.fromNs.toString(), to_ns: p.toNs.toString() };
    const rs = await this.client.query({
      query,
      query_params: { ...compiled.params, ...params, ...(p.traceIds ? { only_ids: p.traceIds } : {}), limit: p.maxResults + 1, offset: p.offset },
      format: 'JSONEachRow',
    });
    const rows = await rs.json<TraceColumns>();
    const more = rows.length > p.maxResults;
    const page = more ? rows.slice(0, p.maxResults) : rows;
    const traces = await this.summaries(p.project, page);
    return { traces, nextOffset: more ? p.offset + p.maxResults : null };
  }

  /** Whether one trace matches a filter (scorer filters): the same SQL as search, scoped to that trace. */
  async matches(project: string, traceId: string, filter: string): Promise<boolean> {
    const compiled = compileFilter(filter, {
      projectParam: 'project',
      spanTimeScope: 'trace_id = {trace_id:String}',
      eventTimeScope: 'trace_id = {trace_id:String}',
      assessmentScope: 'trace_id = {trace_id:String}',
    });
    const where = compiled.conditions.length ? `WHERE ${compiled.conditions.join(' AND ')}` : '';
    const rs = await this.client.query({
      query: `SELECT count() AS n FROM (
                SELECT ${TRACE_COLUMNS} FROM traces WHERE project = {project:String} AND trace_id = {trace_id:String}
                ORDER BY version DESC LIMIT 1) AS t
              ${where}`,
      query_params: { ...compiled.params, project, trace_id: traceId },
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ n: string | number }>();
    return Number(row?.n ?? 0) > 0;
  }

  /**
   * Runs several SELECTs as one statement and returns each one's rows, as JSONEachRow would give them.
   * Each statement costs chDB a few ms of fixed work, more than reading a trace, so a reader asks once:
   * every branch renders its rows with formatRowNoNewline('JSONEachRow', …) (the session's settings
   * apply, so 64-bit integers are quoted as usual) and the union is sorted by branch, then by each
   * branch's `order` (two columns: a UInt64 and a String), which is the order the branch gave before.
   */
  private async union(branches: ReadonlyArray<{ sql: string; order: [string, string] }>, params: Record<string, unknown>): Promise<unknown[][]> {
    const query = `SELECT k, r FROM (
      ${branches
        .map(
          (b, k) =>
            `SELECT toUInt8(${k}) AS k, toUInt64(${b.order[0]}) AS o1, toString(${b.order[1]}) AS o2, formatRowNoNewline('JSONEachRow', *) AS r FROM (${b.sql})`,
        )
        .join('\n      UNION ALL ')}
    ) ORDER BY k, o1, o2`;
    const rs = await this.client.query({ query, query_params: params, format: 'JSONEachRow' });
    const out: unknown[][] = branches.map(() => []);
    for (const row of await rs.json<{ k: number; r: string }>()) out[row.k]?.push(JSON.parse(row.r));
    return out;
  }

  /** Adds what only the spans and assessments know (tokens, models, session, tags) to a page of rows. */
  private async summaries(project: string, rows: readonly TraceColumns[]): Promise<TraceInfoRecord[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.trace_id);
    const [spanRows, assessmentRows, metaRows] = (await this.union(
      [
        {
          sql: `SELECT trace_id, span_id, parent_span_id, model, input_tokens, output_tokens, total_tokens, session_id, user_id, tags, metadata
                FROM spans WHERE project = {project:String} AND trace_id IN {ids:Array(String)}
                ORDER BY trace_id, span_id LIMIT 1 BY trace_id, span_id`,
          order: ['0', "concat(trace_id, '\\0', span_id)"],
        },
        { sql: assessmentSummarySql('{ids:Array(String)}'), order: ['0', "''"] },
        { sql: traceMetaSql('{ids:Array(String)}'), order: ['0', "''"] },
      ],
      { project, ids },
    )) as [SpanSummaryRow[], AssessmentSummaryRow[], TraceMetaRow[]];
    const spansByTrace = new Map<string, SpanSummaryRow[]>();
    for (const s of spanRows) {
      const list = spansByTrace.get(s.trace_id);
      if (list) list.push(s);
      else spansByTrace.set(s.trace_id, [s]);
    }
    const assessed = foldAssessmentSummary(assessmentRows);
    const meta = foldTraceMeta(metaRows);
    return rows.map((r) => infoRecord(project, r, spansByTrace.get(r.trace_id) ?? [], assessed.get(r.trace_id) ?? {}, meta.get(r.trace_id)));
  }

  /** A whole trace: its summary, spans, log records and current assessments; null if the store has none of it. */
  async getTraceRecord(project: string, traceId: string): Promise<TraceRecord | null> {
    const [traceRows, spanRows, eventRows, assessmentRows, metaRows] = (await this.union(
      [
        {
          // The root's row starts when the root span does: through that time (two narrow columns of the
          // trace's spans, found by key) the traces key finds it in one granule instead of a bloom-filter
          // check of every granule of the table. A trace without a root span has only placeholders, which
          // the reader makes from its spans as the writer did.
          sql: `SELECT ${TRACE_COLUMNS} FROM traces WHERE project = {project:String} AND trace_id = {id:String} AND version = ${TRACE_ROW_VERSION.root}
                  AND request_time IN (SELECT start_time FROM spans WHERE project = {project:String} AND trace_id = {id:String} AND parent_span_id = '')
                ORDER BY request_time DESC LIMIT 1`,
          order: ['0', "''"],
        },
        {
          sql: `SELECT * EXCEPT (start_time) FROM spans WHERE project = {project:String} AND trace_id = {id:String}
                ORDER BY start_time_ns, span_id LIMIT 1 BY span_id`,
          order: ['start_time_ns', 'span_id'],
        },
        {
          sql: `SELECT span_id, time_ns, event_name, body, attributes FROM events
                WHERE project = {project:String} AND trace_id = {id:String}
                ORDER BY time_ns LIMIT 1 BY span_id, time_ns, event_id`,
          order: ['time_ns', "''"],
        },
        { sql: currentAssessmentsSql('[{id:String}]'), order: ['created_time_ns', "''"] },
        { sql: traceMetaSql('[{id:String}]'), order: ['0', "''"] },
      ],
      { project, id: traceId },
    )) as [TraceColumns[], StoredSpanRow[], SpanEventRow[], CurrentAssessmentRow[], TraceMetaRow[]];
    if (spanRows.length === 0 && traceRows.length === 0) return null;
    const row: TraceColumns = traceRows[0] ?? placeholderTraceRow(spanRows.reduce(earlierSpan));
    const assessments = assessmentRows.map((r) => toRecord(project, r));
    const info = infoRecord(project, row, spanRows, summarizeAssessments(assessments).get(traceId) ?? {}, foldTraceMeta(metaRows).get(traceId));
    const events = eventRows.map(logEventRecord);
    return { info, spans: spanRecords(spanRows, events), events, assessments };
  }
}

/** The trace-level fields set beside the spans (trace_meta) win over what the spans say. */
function infoRecord(
  project: string,
  r: TraceColumns,
  spans: readonly SpanSummaryRow[],
  assessments: TraceInfoRecord['assessments'],
  meta?: TraceMeta,
): TraceInfoRecord {
  const agg = aggregateTrace(spans);
  return {
    traceId: r.trace_id,
    project,
    name: r.name,
    requestTimeNs: BigInt(r.request_time_ns),
    executionDurationNs: BigInt(r.execution_duration_ns),
    state: r.state,
    requestPreview: r.request_preview,
    responsePreview: r.response_preview,
    serviceName: r.service_name,
    sessionId: meta?.sessionId || agg.session_id,
    userId: meta?.userId || agg.user_id,
    tags: meta ? { ...agg.tags, ...meta.tags } : agg.tags,
    metadata: meta ? { ...agg.metadata, ...meta.metadata } : agg.metadata,
    tokenUsage: agg.token_usage,
    models: agg.models,
    spanCount: agg.span_count,
    assessments,
  };
}
