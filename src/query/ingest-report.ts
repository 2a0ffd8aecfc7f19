import type { ClickHouseClient } from '@clickhouse/client';
import { MAPPED_KEYS, MAPPED_PREFIXES } from '../normalize/mapped-keys.js';

export interface IngestReportParams {
  project: string;
  fromNs: bigint;
  toNs: bigint;
  /** Unmapped attribute keys listed per convention, most frequent first. */
  topKeys: number;
}

export interface ConventionReport {
  convention: string;
  spans: number;
  llm_spans: number;
  /** LLM spans without a model name, without any token count, and without content (inputs, outputs or log events). */
  llm_missing_model: number;
  llm_missing_tokens: number;
  llm_missing_content: number;
  /** Attribute keys (list indices as `*`) that no mapping reads, with the number of spans carrying each. */
  unmapped_keys: Array<{ key: string; spans: number }>;
}

/**
 * The convention of a stored span, in SQL: the same precedence as normalize/ (the first module that maps
 * the span), from its attribute keys.
 */
const CONVENTION_SQL = `multiIf(
  mapContains(attributes, 'mlflow.spanType') OR arrayExists(k -> startsWith(k, 'mlflow.'), mapKeys(attributes)), 'mlflow',
  arrayExists(k -> startsWith(k, 'langfuse.'), mapKeys(attributes)), 'langfuse',
  arrayExists(k -> startsWith(k, 'openinference.') OR startsWith(k, 'input.') OR startsWith(k, 'output.') OR startsWith(k, 'retrieval.'), mapKeys(attributes)), 'openinference',
  arrayExists(k -> startsWith(k, 'ai.'), mapKeys(attributes)), 'vercel',
  arrayExists(k -> startsWith(k, 'traceloop.') OR startsWith(k, 'gen_ai.prompt.') OR startsWith(k, 'gen_ai.completion.'), mapKeys(attributes)), 'traceloop',
  arrayExists(k -> startsWith(k, 'logfire.') OR startsWith(k, 'pydantic_ai.') OR k = 'final_result', mapKeys(attributes)), 'logfire',
  arrayExists(k -> startsWith(k, 'gen_ai.'), mapKeys(attributes)), 'otel-genai',
  arrayExists(k -> startsWith(k, 'llm.'), mapKeys(attributes)), 'openinference',
  'none')`;

const LLM = `span_type IN ('LLM', 'CHAT_MODEL')`;

/**
 * What a project's spans in a time range carried that tracehouse did not use: per convention, the LLM
 * spans missing model, tokens or content, and the most frequent attribute keys no mapping reads. Read
 * from the stored spans (their raw attributes are kept), so it covers whatever was written by any writer
 * and costs nothing at ingest.
 */
export async function ingestReport(client: ClickHouseClient, p: IngestReportParams): Promise<ConventionReport[]> {
  const params = {
    project: p.project,
    from_ns: p.fromNs.toString(),
    to_ns: p.toNs.toString(),
    mapped: [...MAPPED_KEYS],
    prefixes: [...MAPPED_PREFIXES],
    top: p.topKeys,
  };
  // Resent spans fold onto one row only at merges: dedup first.
  const spans = `SELECT ${CONVENTION_SQL} AS convention, trace_id, span_id, span_type, model, input_tokens, output_tokens, total_tokens, inputs, outputs, attributes
    FROM spans
    WHERE project = {project:String} AND start_time >= fromUnixTimestamp64Nano({from_ns:Int64}) AND start_time < fromUnixTimestamp64Nano({to_ns:Int64})
    ORDER BY trace_id, span_id LIMIT 1 BY trace_id, span_id`;
  const [counts, keys] = await Promise.all([
    client
      .query({
        query: `SELECT convention, count() AS spans, countIf(${LLM}) AS llm_spans,
                  countIf(${LLM} AND model = '') AS llm_missing_model,
                  countIf(${LLM} AND input_tokens IS NULL AND output_tokens IS NULL AND total_tokens IS NULL) AS llm_missing_tokens,
                  countIf(${LLM} AND inputs = '' AND outputs = '' AND (trace_id, span_id) NOT IN (
                    SELECT trace_id, span_id FROM events WHERE project = {project:String}
                      AND time >= fromUnixTimestamp64Nano({from_ns:Int64}))) AS llm_missing_content
                FROM (${spans}) GROUP BY convention ORDER BY spans DESC`,
        query_params: params,
        format: 'JSONEachRow',
      })
      .then((rs) => rs.json<Record<string, string | number>>()),
    client
      .query({
        query: `SELECT convention, replaceRegexpAll(key, '\\\\.[0-9]+(\\\\.|$)', '.*\\\\1') AS pattern, count() AS n
                FROM (${spans}) ARRAY JOIN mapKeys(attributes) AS key
                WHERE NOT has({mapped:Array(String)}, key) AND NOT arrayExists(p -> startsWith(key, p), {prefixes:Array(String)})
                GROUP BY convention, pattern ORDER BY n DESC, pattern LIMIT {top:UInt32} BY convention`,
        query_params: params,
        format: 'JSONEachRow',
      })
      .then((rs) => rs.json<{ convention: string; pattern: string; n: string | number }>()),
  ]);
  return counts.map((c) => ({
    convention: String(c.convention),
    spans: Number(c.spans),
    llm_spans: Number(c.llm_spans),
    llm_missing_model: Number(c.llm_missing_model),
    llm_missing_tokens: Number(c.llm_missing_tokens),
    llm_missing_content: Number(c.llm_missing_content),
    unmapped_keys: keys.filter((k) => k.convention === c.convention).map((k) => ({ key: k.pattern, spans: Number(k.n) })),
  }));
}
