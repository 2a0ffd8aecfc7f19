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

/**
 * How api() finds the API key and reports a 401: filled in by auth.ts, so this module needs no browser
 * storage (test/unit/ui-renderers.test.ts type-checks it through io.tsx without the DOM).
 */
export const credentials = {
  key: (): string | null => null,
  project: (): string | null => null,
  refused: (_message: string): void => {},
};

/** The project a request names (`?project=` or a JSON body's), for a refusal's message; the key's own when none. */
function projectNamed(path: string, body: unknown): string | null {
  const q = new URL(path, 'http://ui.invalid').searchParams.get('project');
  if (q) return q;
  if (typeof body === 'string') {
    try {
      const p = (JSON.parse(body) as { project?: unknown }).project;
      if (typeof p === 'string') return p;
    } catch {}
  }
  return credentials.project();
}

export async function api<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  const key = credentials.key();
  const headers: Record<string, string> = {
    ...(init?.body ? { 'content-type': 'application/json' } : {}),
    ...(key ? { authorization: `Bearer ${key}` } : {}),
    ...(init?.headers as Record<string, string> | undefined),
  };
  try {
    res = await fetch(path, { ...init, headers });
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
    // A missing or refused key: the sign-in takes the page (App.tsx). A 403 stays an error of its view.
    if (res.status === 401) credentials.refused(e?.message ?? 'the API wants an API key');
    const details = res.status === 403 ? { ...e, project: projectNamed(path, init?.body), write: (init?.method ?? 'GET') !== 'GET' } : (e ?? {});
    throw new ApiFailure(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? `HTTP ${res.status}`, details);
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
