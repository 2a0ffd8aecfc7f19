import type { ClickHouseClient } from '@clickhouse/client';

export interface ScorerStatus {
  name: string;
  source_type: string;
  /** Verdicts made in the range (current versions, not deleted; one a human overrode still counts), errors included. */
  assessments: number;
  errors: number;
  /** Traces of the range this scorer has not (yet) written a verdict for; sampling leaves some out on purpose. */
  pending_traces: number;
  /** When the newest verdict was made, epoch ms (null when none in the range). */
  last_assessment_ms: number | null;
  /** Newest trace of the range minus the newest trace this scorer judged, in seconds (0 when caught up). */
  lag_seconds: number | null;
  judge_input_tokens: number;
  judge_output_tokens: number;
  judge_cost_usd: number;
}

export interface EvaluatorStatus {
  traces: number;
  scorers: ScorerStatus[];
}

/**
 * Evaluator health read from what it wrote: per scorer (feedback written by an LLM judge or code), how
 * many verdicts and errors it made over the range, what it spent on the judge (tokens and cost recorded in
 * each verdict's metadata), and how far behind the newest trace it is. Read from the store, so the API role
 * answers it without an evaluator in its process.
 */
export async function evaluatorStatus(client: ClickHouseClient, p: { project: string; fromNs: bigint; toNs: bigint }): Promise<EvaluatorStatus> {
  const params = { project: p.project, from_ns: p.fromNs.toString(), to_ns: p.toNs.toString() };
  const traceRows = await (
    await client.query({
      query: `SELECT count() AS n, max(request_time_ns) AS newest FROM (SELECT trace_id, max(request_time_ns) AS request_time_ns FROM traces
        WHERE project = {project:String} AND request_time >= fromUnixTimestamp64Nano({from_ns:Int64}) AND request_time < fromUnixTimestamp64Nano({to_ns:Int64})
        GROUP BY trace_id)`,
      query_params: params,
      format: 'JSONEachRow',
    })
  ).json<{ n: string | number; newest: string | number }>();
  const traces = Number(traceRows[0]?.n ?? 0);
  const newestTraceNs = BigInt(traceRows[0]?.newest ?? 0);
  const rs = await client.query({
    query: `
      SELECT name, any(source_type) AS source_type, count() AS assessments, countIf(error != '') AS errors,
             uniqExact(trace_id) AS judged, max(created_time_ns) AS last_ns,
             sum(toUInt64OrZero(metadata['judge_input_tokens'])) AS input_tokens,
             sum(toUInt64OrZero(metadata['judge_output_tokens'])) AS output_tokens,
             sum(toFloat64OrZero(metadata['judge_cost_usd'])) AS cost,
             max(t.request_time_ns) AS newest_judged_ns
      FROM (
        SELECT trace_id, name, source_type, error, metadata, created_time_ns, deleted FROM assessments
        WHERE project = {project:String} AND kind = 'feedback' AND source_type IN ('LLM_JUDGE', 'CODE')
          AND created_time >= fromUnixTimestamp64Nano({from_ns:Int64})
        ORDER BY assessment_id, version DESC LIMIT 1 BY assessment_id) AS a
      LEFT JOIN (SELECT trace_id, max(request_time_ns) AS request_time_ns FROM traces WHERE project = {project:String}
        AND request_time >= fromUnixTimestamp64Nano({from_ns:Int64}) AND request_time < fromUnixTimestamp64Nano({to_ns:Int64}) GROUP BY trace_id) AS t
        ON a.trace_id = t.trace_id
      WHERE deleted = 0 AND t.trace_id != ''
      GROUP BY name ORDER BY name`,
    query_params: params,
    format: 'JSONEachRow',
  });
  const rows = await rs.json<Record<string, string | number>>();
  return {
    traces,
    scorers: rows.map((r) => {
      const newestJudged = BigInt(r.newest_judged_ns ?? 0);
      const lastNs = BigInt(r.last_ns ?? 0);
      return {
        name: String(r.name),
        source_type: String(r.source_type),
        assessments: Number(r.assessments),
        errors: Number(r.errors),
        pending_traces: Math.max(0, traces - Number(r.judged)),
        last_assessment_ms: lastNs > 0n ? Number(lastNs / 1_000_000n) : null,
        lag_seconds: newestJudged > 0n ? Math.max(0, Number((newestTraceNs - newestJudged) / 1_000_000n) / 1000) : null,
        judge_input_tokens: Number(r.input_tokens),
        judge_output_tokens: Number(r.output_tokens),
        judge_cost_usd: Number(r.cost),
      };
    }),
  };
}
