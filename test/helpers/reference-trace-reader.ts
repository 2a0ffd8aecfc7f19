/**
 * The oracle for test/store/trace-reader.test.ts: TraceReader as it was before its one-statement reads
 * (a statement per table, the window's traces deduplicated in a subquery before filters and paging).
 * The reader must give the same records on the same store. Kept as it was, apart from the import paths.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { compileFilter, compileOrderBy } from '../../src/query/filter/index.js';
import { aggregateTrace, type SpanSummaryRow } from '../../src/query/trace-aggregates.js';
import { readAssessments, summarizeAssessments } from '../../src/assessments/read.js';
import { logEventRecord, spanRecords, type SpanEventRow } from '../../src/query/span-records.js';
import { earlierSpan, placeholderTraceRow, type StoredSpanRow, type StoredTraceRow } from '../../src/exporters/clickhouse/tables.js';
import type { TraceInfoRecord, TraceRecord } from '../../src/query/records.js';
import { readTraceMeta, type TraceMeta } from '../../src/query/trace-meta.js';
// The same parameters and result as the reader it checks: only the way it reads is kept as it was.
import type { SearchParams, SearchResult } from '../../src/query/trace-reader.js';

/** The `traces` columns a reader selects (TRACE_COLUMNS). */
type TraceColumns = Omit<StoredTraceRow, 'project' | 'version'>;

const TRACE_COLUMNS =
  'trace_id, request_time_ns, request_time, execution_duration_ns, state, name, service_name, request_preview, response_preview, root_span_id';
const NARROW_TRACE_COLUMNS = 'trace_id, request_time_ns, request_time, execution_duration_ns, state, name, service_name, root_span_id';
const NARROW_OUT_COLUMNS = 'trace_id, request_time_ns, execution_duration_ns, state, name, service_name, root_span_id';

/** Read side of the store: trace search and trace detail, on the reader connection. */
export class ReferenceTraceReader {
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
    });
    const conditions = p.traceIds ? [...compiled.conditions, 'trace_id IN {only_ids:Array(String)}'] : compiled.conditions;
    const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
    // Previews are the widest columns: read them for the page only, unless a text filter needs them.
    const previewsInFilter = compiled.conditions.some((c) => c.includes('_preview'));
    const columns = previewsInFilter ? TRACE_COLUMNS : NARROW_TRACE_COLUMNS;
    // The inner query keeps one row per trace (the root's over placeholders) before any filter applies.
    const query = `
      SELECT ${NARROW_OUT_COLUMNS}
      FROM (
        SELECT ${columns} FROM traces
        WHERE ${inRange}
        ORDER BY trace_id, version DESC
        LIMIT 1 BY trace_id
      ) AS t
      ${where}
      ORDER BY ${compileOrderBy(p.orderBy)}
      LIMIT {limit:UInt32} OFFSET {offset:UInt32}`;
    const params = { project: p.project, from_ns: p.fromNs.toString(), to_ns: p.toNs.toString() };
    const rs = await this.client.query({
      query,
      query_params: { ...compiled.params, ...params, ...(p.traceIds ? { only_ids: p.traceIds } : {}), limit: p.maxResults + 1, offset: p.offset },
      format: 'JSONEachRow',
    });
    const rows = await rs.json<Omit<TraceColumns, 'request_preview' | 'response_preview'>>();
    const more = rows.length > p.maxResults;
    const page = more ? rows.slice(0, p.maxResults) : rows;
    const previews = await this.previews(
      page.map((r) => r.trace_id),
      params,
      inRange,
    );
    const full = page.map((r) => ({ ...r, request_preview: '', response_preview: '', ...previews.get(r.trace_id) }));
    const traces = await this.summaries(p.project, full);
    return { traces, nextOffset: more ? p.offset + p.maxResults : null };
  }

  private async previews(
    ids: string[],
    params: Record<string, string>,
    inRange: string,
  ): Promise<Map<string, { request_preview: string; response_preview: string }>> {
    if (ids.length === 0) return new Map();
    const rs = await this.client.query({
      query: `SELECT trace_id, request_preview, response_preview FROM traces
              WHERE ${inRange} AND trace_id IN {ids:Array(String)}
              ORDER BY trace_id, version DESC LIMIT 1 BY trace_id`,
      query_params: { ...params, ids },
      format: 'JSONEachRow',
    });
    const rows = await rs.json<{ trace_id: string; request_preview: string; response_preview: string }>();
    return new Map(rows.map((r) => [r.trace_id, { request_preview: r.request_preview, response_preview: r.response_preview }]));
  }

  /** Whether one trace matches a filter (scorer filters): the same SQL as search, scoped to that trace. */
  async matches(project: string, traceId: string, filter: string): Promise<boolean> {
    const compiled = compileFilter(filter, {
      projectParam: 'project',
      spanTimeScope: 'trace_id = {trace_id:String}',
      eventTimeScope: 'trace_id = {trace_id:String}',
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

  /** Adds what only the spans and assessments know (tokens, models, session, tags) to a page of rows. */
  private async summaries(project: string, rows: readonly TraceColumns[]): Promise<TraceInfoRecord[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.trace_id);
    const [spanRows, assessmentRows, meta] = await Promise.all([
      this.client
        .query({
          query: `SELECT trace_id, span_id, parent_span_id, model, input_tokens, output_tokens, total_tokens, session_id, user_id, tags, metadata
                  FROM spans WHERE project = {project:String} AND trace_id IN {ids:Array(String)}
                  ORDER BY trace_id, span_id LIMIT 1 BY trace_id, span_id`,
          query_params: { project, ids },
          format: 'JSONEachRow',
        })
        .then((rs) => rs.json<SpanSummaryRow>()),
      readAssessments(this.client, project, ids),
      readTraceMeta(this.client, project, ids),
    ]);
    const spansByTrace = new Map<string, SpanSummaryRow[]>();
    for (const s of spanRows) {
      const list = spansByTrace.get(s.trace_id);
      if (list) list.push(s);
      else spansByTrace.set(s.trace_id, [s]);
    }
    const assessed = summarizeAssessments(assessmentRows);
    return rows.map((r) => infoRecord(project, r, spansByTrace.get(r.trace_id) ?? [], assessed.get(r.trace_id) ?? {}, meta.get(r.trace_id)));
  }

  /** A whole trace: its summary, spans, log records and current assessments; null if the store has none of it. */
  async getTraceRecord(project: string, traceId: string): Promise<TraceRecord | null> {
    const params = { project, id: traceId };
    const [traceRows, spanRows, eventRows, assessmentRows, meta] = await Promise.all([
      this.client
        .query({
          query: `SELECT ${TRACE_COLUMNS} FROM traces WHERE project = {project:String} AND trace_id = {id:String}
                  ORDER BY version DESC LIMIT 1`,
          query_params: params,
          format: 'JSONEachRow',
        })
        .then((rs) => rs.json<TraceColumns>()),
      this.client
        .query({
          query: `SELECT * EXCEPT (start_time) FROM spans WHERE project = {project:String} AND trace_id = {id:String}
                  ORDER BY start_time_ns, span_id LIMIT 1 BY span_id`,
          query_params: params,
          format: 'JSONEachRow',
        })
        .then((rs) => rs.json<StoredSpanRow>()),
      this.client
        .query({
          query: `SELECT span_id, time_ns, event_name, body, attributes FROM events
                  WHERE project = {project:String} AND trace_id = {id:String}
                  ORDER BY time_ns LIMIT 1 BY span_id, time_ns, event_id`,
          query_params: params,
          format: 'JSONEachRow',
        })
        .then((rs) => rs.json<SpanEventRow>()),
      readAssessments(this.client, project, [traceId]),
      readTraceMeta(this.client, project, [traceId]),
    ]);
    if (spanRows.length === 0 && traceRows.length === 0) return null;
    const row: TraceColumns = traceRows[0] ?? placeholderTraceRow(spanRows.reduce(earlierSpan));
    const info = infoRecord(project, row, spanRows, summarizeAssessments(assessmentRows).get(traceId) ?? {}, meta.get(traceId));
    const events = eventRows.map(logEventRecord);
    return { info, spans: spanRecords(spanRows, events), events, assessments: assessmentRows };
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
