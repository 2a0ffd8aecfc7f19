/** The JSON API's shapes the UI reads (src/api/views.ts has the full ones) and one fetch wrapper. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

export interface Assessment {
  assessment_id: string;
  trace_id: string;
  span_id: string | null;
  name: string;
  kind: string;
  value: Json;
  rationale: string;
  source: { source_type: string; source_id: string };
  error: string | null;
  metadata: Record<string, string>;
  create_time: string;
  last_update_time: string;
  valid: boolean;
  overrides: string | null;
}

export interface TraceInfo {
  trace_id: string;
  project: string;
  name: string;
  request_time: string;
  timestamp_ms: number;
  execution_time_ms: number;
  state: 'OK' | 'ERROR' | 'IN_PROGRESS';
  request_preview: string;
  response_preview: string;
  session_id: string;
  user_id: string;
  token_usage: TokenUsage;
  models: string[];
  span_count: number;
  assessments: Record<string, Json>;
}

export interface Document {
  id: string | null;
  content: string | null;
  score: number | null;
  uri: string | null;
}

export interface Span {
  span_id: string;
  parent_span_id: string | null;
  name: string;
  span_type: string;
  kind: string;
  start_time_ns: string;
  end_time_ns: string;
  status: { code: 'OK' | 'ERROR' | 'UNSET'; message: string };
  inputs: Json | null;
  outputs: Json | null;
  model: string | null;
  provider: string | null;
  token_usage: TokenUsage | null;
  cost: number | null;
  documents: Document[];
  tool: { name: string; arguments: Json; result: Json } | null;
  attributes: Record<string, Json>;
  resource_attributes: Record<string, string>;
  events: Array<{ name: string; time_ns: string; attributes: Record<string, Json>; source: 'span' | 'log' }>;
}

export interface TraceDetail {
  info: TraceInfo;
  spans: Span[];
  assessments: Assessment[];
}

export interface StatsBucket {
  start: string;
  name: string;
  count: number;
  pass: number;
  fail: number;
  errors: number;
  pass_rate: number | null;
  mean: number | null;
}

export interface ScorerStatus {
  name: string;
  source_type: string;
  assessments: number;
  errors: number;
  pending_traces: number;
  last_assessment_ms: number | null;
  lag_seconds: number | null;
  judge_input_tokens: number;
  judge_output_tokens: number;
  judge_cost_usd: number;
}

/** An API error answer (`{"error": {code, message, …}}`), or the API not answering at all (code UNREACHABLE). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, init?.body ? { ...init, headers: { 'content-type': 'application/json', ...init.headers } } : init);
  } catch (err) {
    throw new ApiFailure(0, 'UNREACHABLE', `the tracehouse API does not answer (${(err as Error).message})`);
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiFailure(res.status, 'BAD_ANSWER', `the API answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } & Record<string, unknown> } | null)?.error;
    throw new ApiFailure(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? `HTTP ${res.status}`, e ?? {});
  }
  return body as T;
}

export const qs = (params: Record<string, string | number | undefined | null | string[]>): string => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.set(k, String(v));
  }
  return p.toString();
};
