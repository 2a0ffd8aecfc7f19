import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The captures of test/fixtures/capture (real Python instrumentations, see test/fixtures/README.md). Each
 * has NAME.traces.{pb,json}, NAME.facts.json and, when the library sends content as log events,
 * NAME.logs.{pb,json}.
 */
export const PY_FIXTURE_NAMES = [
  'otel-v2-spans',
  'otel-v2-events',
  'otel-v2-legacy',
  'mlflow',
  'openinference-openai',
  'openinference-langchain',
  'traceloop',
  'pydantic-ai',
] as const;
export type PyFixtureName = (typeof PY_FIXTURE_NAMES)[number];

export const pyFixturePath = (file: string): string => fileURLToPath(new URL(`../fixtures/python/${file}`, import.meta.url));

export interface PyFixtureFacts {
  library: string;
  packages: Record<string, string>;
  span_count: number;
  log_count: number;
  traces: Array<{
    trace_id: string;
    customer_name: string;
    user_instructions: string;
    session: string;
    user: string;
    documents: number;
    mode: 'plain' | 'stream' | 'tool' | 'error';
    llm_calls: number;
    /** Absent for the trace whose LLM call failed. */
    token_usage?: { input_tokens: number; output_tokens: number; total_tokens: number };
    email: string;
    state: 'OK' | 'ERROR';
  }>;
}

export const hasPyFixture = (name: PyFixtureName): boolean => existsSync(pyFixturePath(`${name}.facts.json`));

export const loadPyFacts = (name: PyFixtureName): PyFixtureFacts => JSON.parse(readFileSync(pyFixturePath(`${name}.facts.json`), 'utf8')) as PyFixtureFacts;

type JsonTree = { [key: string]: unknown } | unknown[];

/** Largest `*UnixNano` value in an OTLP/JSON request. */
function maxNanos(v: unknown, max = 0n): bigint {
  if (Array.isArray(v)) for (const x of v) max = maxNanos(x, max);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k.endsWith('UnixNano') && typeof x === 'string' && x !== '0') {
        const n = BigInt(x);
        if (n > max) max = n;
      } else max = maxNanos(x, max);
    }
  }
  return max;
}

function shift(v: unknown, by: bigint): void {
  if (Array.isArray(v)) for (const x of v) shift(x, by);
  else if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const [k, x] of Object.entries(o)) {
      if (k.endsWith('UnixNano') && typeof x === 'string' && x !== '0') o[k] = (BigInt(x) + by).toString();
      else shift(x, by);
    }
  }
}

/**
 * The capture's OTLP/JSON requests (traces, and logs when it has them) with every time moved so the newest
 * ends `endsAgoMs` before now: the store refuses spans past its retention, and searches look at recent data.
 */
export function pyFixtureRequests(name: PyFixtureName, endsAgoMs = 1000): { traces: JsonTree; logs: JsonTree | null } {
  const traces = JSON.parse(readFileSync(pyFixturePath(`${name}.traces.json`), 'utf8')) as JsonTree;
  const logsFile = pyFixturePath(`${name}.logs.json`);
  const logs = existsSync(logsFile) ? (JSON.parse(readFileSync(logsFile, 'utf8')) as JsonTree) : null;
  const newest = [maxNanos(traces), logs ? maxNanos(logs) : 0n].reduce((a, b) => (a > b ? a : b));
  const by = BigInt(Date.now() - endsAgoMs) * 1_000_000n - newest;
  shift(traces, by);
  if (logs) shift(logs, by);
  return { traces, logs };
}

/** Sends a capture to a tracehouse's OTLP/HTTP receiver as OTLP/JSON, into `project`. */
export async function sendPyFixture(otlpHttp: string, name: PyFixtureName, project: string): Promise<void> {
  const { traces, logs } = pyFixtureRequests(name);
  const headers = { 'content-type': 'application/json', 'x-tracehouse-project': project };
  for (const [path, body] of [
    ['/v1/traces', traces],
    ['/v1/logs', logs],
  ] as const) {
    if (body === null) continue;
    const res = await fetch(`${otlpHttp}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status !== 200 || text.includes('rejected')) throw new Error(`${name} ${path}: ${res.status} ${text}`);
  }
}
