/**
 * Bounded memory under hostile load: `tracehouse start` (embedded store) as a child process, one fresh
 * process per scenario, against its configured `receivers.memory_budget_bytes`:
 *
 *   (a) 32 concurrent clients, each sending one span with a 12 MB attribute;
 *   (b) 64 concurrent clients, each sending one 2,000-span request;
 *   (c) 60 uploads that declare 16 MB, send all but the last 512 KB and stall (until body_timeout_ms).
 *
 *   npx tsx bench/memory.bench.ts [--budget-mb 256] [--body-timeout-ms 30000] [--no-build] [--json]
 *
 * Clients retry a 503 after its Retry-After as an exporter does. Reports, per scenario: the server's peak
 * RSS (VmHWM) against its idle RSS plus the budget, answer times (p50/p95/p99/max of every attempt, 503s
 * included: they must come at once), how many answers were 503, and whether every span acknowledged with
 * 200 is readable through the search API. In (c) it also sends small requests while the uploads stall.
 */
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuilt, freePort, peakRss, startProc, type Proc } from './lib/harness.js';
import { fmt, machineLine, percentile } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    'budget-mb': { type: 'string', default: '256' },
    'body-timeout-ms': { type: 'string', default: '30000' },
    'no-build': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const BUDGET = Number(values['budget-mb']) * 1024 * 1024;
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const rssNow = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
};

let traceSeq = 0;
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** One OTLP/JSON request: one trace of `spans` spans, each with `attrBytes` of attribute text. */
function request(spans: number, attrBytes: number): { traceId: string; spans: number; body: Buffer } {
  const traceId = `be${hex(process.pid, 8)}${hex(++traceSeq, 22)}`;
  const now = BigInt(Date.now()) * 1_000_000n;
  const text = 'm'.repeat(attrBytes);
  const list = Array.from({ length: spans }, (_, s) => ({
    traceId,
    spanId: hex(s + 1, 16),
    parentSpanId: s === 0 ? '' : hex(1, 16),
    name: s === 0 ? 'root' : 'child',
    kind: 1,
    startTimeUnixNano: String(now + BigInt(s)),
    endTimeUnixNano: String(now + 1_000_000n),
    attributes: [{ key: 'payload', value: { stringValue: text } }],
  }));
  const body = { resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'bench' }, spans: list }] }] };
  return { traceId, spans, body: Buffer.from(JSON.stringify(body)) };
}

interface Outcome {
  latenciesMs: number[];
  refused: number;
  acked: Array<{ traceId: string; spans: number }>;
  failed: number;
}

/** Sends each body once per client, retrying 503 after Retry-After, until 200 or the deadline. */
async function clients(http: number, reqs: Array<{ traceId: string; spans: number; body: Buffer }>, deadlineMs: number): Promise<Outcome> {
  const out: Outcome = { latenciesMs: [], refused: 0, acked: [], failed: 0 };
  const end = Date.now() + deadlineMs;
  await Promise.all(
    reqs.map(async (r) => {
      while (Date.now() < end) {
        const t0 = performance.now();
        let status = 0;
        let retryAfter = 1;
        try {
          const res = await fetch(`http://127.0.0.1:${http}/v1/traces`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-tracehouse-project': 'membench' },
            body: r.body,
          });
          await res.arrayBuffer();
          status = res.status;
          retryAfter = Number(res.headers.get('retry-after') ?? 1);
        } catch {
          status = 0;
        }
        out.latenciesMs.push(performance.now() - t0);
        if (status === 200) {
          out.acked.push({ traceId: r.traceId, spans: r.spans });
          return;
        }
        if (status === 503) {
          out.refused++;
          await new Promise((res) => setTimeout(res, retryAfter * 1000 * (0.5 + Math.random())));
          continue;
        }
        out.failed++;
        return;
      }
      out.failed++;
    }),
  );
  return out;
}

/** Every acknowledged trace is listed with all its spans. */
async function verify(api: number, acked: Outcome['acked']): Promise<{ stored: number; expected: number }> {
  const found = new Map<string, number>();
  let token: string | null = null;
  do {
    const q = new URLSearchParams({ project: 'membench', max_results: '1000', from: '0' });
    if (token) q.set('page_token', token);
    const page = (await (await fetch(`http://127.0.0.1:${api}/api/v1/traces?${q.toString()}`)).json()) as {
      traces: Array<{ trace_id: string; span_count: number }>;
      next_page_token: string | null;
    };
    for (const t of page.traces) found.set(t.trace_id, t.span_count);
    token = page.next_page_token;
  } while (token);
  let stored = 0;
  let expected = 0;
  for (const a of acked) {
    expected += a.spans;
    stored += Math.min(a.spans, found.get(a.traceId) ?? 0);
  }
  return { stored, expected };
}

async function withServer<T>(
  name: string,
  run: (p: Proc, ports: { http: number; api: number }) => Promise<T>,
): Promise<T & { name: string; idleRss: number; peakRss: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tracehouse-membench-'));
  const ports = { http: await freePort(), api: await freePort() };
  const proc = await startProc(
    [
      'start',
      '--data-dir',
      dir,
      '--grpc-enabled',
      'false',
      '--http-host',
      '127.0.0.1',
      '--http-port',
      String(ports.http),
      '--api-host',
      '127.0.0.1',
      '--api-port',
      String(ports.api),
      '--memory-budget-bytes',
      String(BUDGET),
      '--body-timeout-ms',
      String(values['body-timeout-ms']),
      '--log-level',
      'warn',
    ],
    `http://127.0.0.1:${ports.api}/readyz`,
  );
  try {
    // Idle after one small write: the fixed overhead the budget comes on top of.
    await clients(ports.http, [request(1, 100)], 30_000);
    const idleRss = rssNow(proc.pid);
    const r = await run(proc, ports);
    return { ...r, name, idleRss, peakRss: peakRss(proc.pid) };
  } finally {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(o: Outcome): Record<string, number> {
  return {
    attempts: o.latenciesMs.length,
    refused503: o.refused,
    failed: o.failed,
    p50ms: percentile(o.latenciesMs, 50),
    p95ms: percentile(o.latenciesMs, 95),
    p99ms: percentile(o.latenciesMs, 99),
    maxMs: Math.max(...o.latenciesMs),
  };
}

async function main(): Promise<void> {
  ensureBuilt(!values['no-build']);
  log(await machineLine());
  const results: Array<Record<string, unknown>> = [];
  const print = (r: Record<string, unknown> & { name: string; idleRss: number; peakRss: number }): void => {
    results.push(r);
    const over = (r.peakRss - r.idleRss) / 2 ** 20;
    log(
      `${r.name}: peak RSS ${fmt(r.peakRss / 2 ** 20)} MiB (idle ${fmt(r.idleRss / 2 ** 20)} MiB + ${fmt(over)} MiB; budget ${fmt(BUDGET / 2 ** 20)} MiB)  ` +
        Object.entries(r)
          .filter(([k]) => !['name', 'idleRss', 'peakRss'].includes(k))
          .map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : String(v)}`)
          .join('  '),
    );
  };

  print(
    await withServer('(a) 32 x one 12 MB span', async (_p, ports) => {
      const o = await clients(
        ports.http,
        Array.from({ length: 32 }, () => request(1, 12 * 1024 * 1024)),
        600_000,
      );
      const v = await verify(ports.api, o.acked);
      return { ...report(o), spansAcked: v.expected, spansStored: v.stored };
    }),
  );

  print(
    await withServer('(b) 64 x 2,000-span requests', async (_p, ports) => {
      const o = await clients(
        ports.http,
        Array.from({ length: 64 }, () => request(2000, 200)),
        600_000,
      );
      const v = await verify(ports.api, o.acked);
      return { ...report(o), spansAcked: v.expected, spansStored: v.stored };
    }),
  );

  print(
    await withServer('(c) 60 stalled 16 MB uploads', async (p, ports) => {
      const declared = 16 * 1024 * 1024;
      const closed: Array<Promise<string>> = [];
      const t0 = performance.now();
      for (let i = 0; i < 60; i++) {
        const socket = connect(ports.http, '127.0.0.1');
        let answer = '';
        socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
        socket.on('error', () => undefined);
        closed.push(new Promise((resolve) => socket.once('close', () => resolve(answer.split('\r\n')[0] ?? ''))));
        socket.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
        socket.write(Buffer.alloc(declared - 512 * 1024, 0x20));
      }
      // While they stall: small requests must still be answered (200 once the budget frees, 503 at once before).
      await new Promise((r) => setTimeout(r, 2000));
      const stalledRss = rssNow(p.pid);
      const o = await clients(
        ports.http,
        Array.from({ length: 16 }, () => request(10, 1000)),
        600_000,
      );
      const answers = await Promise.all(closed);
      const v = await verify(ports.api, o.acked);
      const statuses = new Map<string, number>();
      for (const a of answers) statuses.set(a.slice(9, 12) || 'none', (statuses.get(a.slice(9, 12) || 'none') ?? 0) + 1);
      return {
        ...report(o),
        stalledRssMiB: stalledRss / 2 ** 20,
        stalledAnswers: [...statuses].map(([k, n]) => `${n}x${k}`).join(','),
        stalledClosedAfterMs: performance.now() - t0,
        spansAcked: v.expected,
        spansStored: v.stored,
      };
    }),
  );

  if (values.json) process.stdout.write(`${JSON.stringify({ budgetBytes: BUDGET, results })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
