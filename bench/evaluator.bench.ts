/**
 * Online evaluator throughput and lag: `tracehouse start` (embedded store, inline bus) runs as a child process
 * with LLM-judge scorers pointed at the OpenAI-compatible stub (test/helpers/judge-stub.ts), which answers every
 * call after a fixed delay (200 ms: a fast hosted model). Small RAG traces (AGENT root → RETRIEVER with three
 * documents → LLM) arrive over OTLP/HTTP protobuf at a steady rate, each sent when its root span ends, for
 * `--duration` seconds; then the run drains. Once per value of `--concurrency`, each on a fresh store.
 *
 *   npx tsx bench/evaluator.bench.ts [--duration 120] [--traces-per-minute 1000] [--sample-rate 1]
 *       [--judges 3] [--concurrency 8,32] [--judge-delay-ms 200] [--settle-ms 2000] [--drain-timeout 240]
 *       [--rpm 0] [--no-build] [--json]
 *
 * `--traces-per-minute` is the SAMPLED rate: incoming traffic is that divided by `--sample-rate`.
 * Reports, per concurrency: judge assessments/s (while loaded, and overall), p50/p95/max of the time from a
 * trace's end (its root span's end) to each assessment being written (the assessment's create_time, stamped
 * just before the insert), the largest `tracehouse_evaluator_lag_seconds` seen on /metrics (polled every
 * 500 ms: the age of the oldest trace waiting for a scoring slot), the queue at the end of the load, the
 * server's peak RSS (VmHWM), and the theoretical ceiling concurrency / judge delay (judge calls/s), against
 * the demand (sampled traces/s × judges). Lag is "bounded" when the queue does not keep growing: the lag at
 * the end of the load is under 5 s and under half the load's duration.
 *
 * Judge calls go to one model, so `evaluator.judge.rpm_per_model` is set to `--rpm` (0 = unlimited): the
 * default of 600/min (10 calls/s) would be the bottleneck at these rates, not the concurrency measured here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Attributes, HrTime } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { stringify } from 'yaml';
import { isSampled } from '../src/evaluate/sampling.js';
import { startJudgeStub, type JudgeStub } from '../test/helpers/judge-stub.js';
import { ensureBuilt, freePort, peakRss, startProc } from './lib/harness.js';
import { fmt, machineLine, mb, percentile } from './lib/stats.js';

const PROJECT = 'bench';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '120' },
    'traces-per-minute': { type: 'string', default: '1000' },
    'sample-rate': { type: 'string', default: '1' },
    judges: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8,32' },
    'judge-delay-ms': { type: 'string', default: '200' },
    'settle-ms': { type: 'string', default: '2000' },
    'drain-timeout': { type: 'string', default: '240' },
    rpm: { type: 'string', default: '0' },
    seed: { type: 'string', default: '5' },
    'no-build': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const durationS = Number(values.duration);
const sampledPerMin = Number(values['traces-per-minute']);
const sampleRate = Number(values['sample-rate']);
const judges = Number(values.judges);
const concurrencies = values.concurrency.split(',').map((c) => Number(c.trim()));
const judgeDelayMs = Number(values['judge-delay-ms']);
const settleMs = Number(values['settle-ms']);
const drainTimeoutS = Number(values['drain-timeout']);
if (!(judges >= 1 && judges <= 3)) throw new Error('--judges must be 1, 2 or 3');
if (!(sampleRate > 0 && sampleRate <= 1)) throw new Error('--sample-rate must be in (0, 1]');

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const JUDGE_SCORERS = [
  { type: 'relevance_to_query' },
  { type: 'guidelines', name: 'professional_tone', guidelines: 'The answer must be in a professional tone.' },
  { type: 'retrieval_groundedness' },
].slice(0, judges);

// ---------------------------------------------------------------------------------------------
// Server process
// ---------------------------------------------------------------------------------------------

/** Samples of the evaluator's metrics, summed over label sets. */
interface MetricSample {
  at: number;
  lag: number;
  queued: number;
  pending: number;
  scored: number;
  assessments: number;
  overflow: number;
}

async function sampleMetrics(api: string): Promise<MetricSample> {
  const text = await (await fetch(`${api}/metrics`)).text();
  const sum = (name: string): number => {
    let s = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) s += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return s;
  };
  return {
    at: Date.now(),
    lag: sum('tracehouse_evaluator_lag_seconds'),
    queued: sum('tracehouse_evaluator_queued_traces'),
    pending: sum('tracehouse_evaluator_pending_traces'),
    scored: sum('tracehouse_evaluator_traces_scored_total'),
    assessments: sum('tracehouse_evaluator_assessments_total'),
    overflow: sum('tracehouse_evaluator_overflow_total'),
  };
}

// ---------------------------------------------------------------------------------------------
// Traffic: small OpenInference RAG traces, each sent as its root span ends
// ---------------------------------------------------------------------------------------------

class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += ((this.next() * 4294967296) >>> 0).toString(16).padStart(8, '0');
    return s.slice(0, chars);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
}

const CUSTOMERS = ['Acme Corp', 'TechStart', 'Global Retail', 'Initech', 'Umbrella', 'Hooli', 'Stark Industries', 'Wayne Enterprises'];
const ASKS = [
  'Follow up after product demo',
  'Check on support ticket status',
  'Send quarterly review summary',
  'Ask about renewal',
  'Explain the new pricing',
];
const resource = resourceFromAttributes({ 'service.name': 'sales-email', 'tracehouse.project': PROJECT });
const hr = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

function span(traceId: string, spanId: string, parent: string | undefined, name: string, startMs: number, endMs: number, attributes: Attributes): ReadableSpan {
  const ctx = { traceId, spanId, traceFlags: 1 };
  return {
    name,
    kind: 0,
    spanContext: () => ctx,
    parentSpanContext: parent ? { traceId, spanId: parent, traceFlags: 1 } : undefined,
    startTime: hr(startMs),
    endTime: hr(endMs),
    duration: hr(endMs - startMs),
    status: { code: 0 },
    attributes,
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: { name: 'openinference.instrumentation.openai', version: '0.1.0' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** One trace ending at `endMs`: AGENT root, RETRIEVER with three CRM documents, LLM call. */
function makeTrace(rng: Rng, endMs: number): { traceId: string; spans: ReadableSpan[] } {
  const traceId = rng.hex(32);
  const [root, ret, llm] = [rng.hex(16), rng.hex(16), rng.hex(16)];
  const customer = rng.pick(CUSTOMERS);
  const ask = rng.pick(ASKS);
  const startMs = endMs - 500 - Math.floor(rng.next() * 2500);
  const email = `Subject: ${ask}\n\nDear ${customer} team,\n\nThank you for your time this week. ${ask} — as discussed, we will follow up with the details by Friday.\n\nBest regards,\nSales`;
  const docs: Attributes = {};
  ['Recent meeting: product demo, interested in enterprise features', 'Support tickets: none open', `Contact: ${customer} purchasing`].forEach((c, i) => {
    docs[`retrieval.documents.${i}.document.id`] = `${customer}_${i}`;
    docs[`retrieval.documents.${i}.document.content`] = c;
  });
  const input = JSON.stringify({ customer_name: customer, user_instructions: ask });
  return {
    traceId,
    spans: [
      span(traceId, ret, root, 'retrieve_customer_info', startMs + 10, startMs + 60, {
        'openinference.span.kind': 'RETRIEVER',
        'input.value': customer,
        ...docs,
      }),
      span(traceId, llm, root, 'ChatCompletion', startMs + 70, endMs - 10, {
        'openinference.span.kind': 'LLM',
        'llm.model_name': 'gpt-4o-mini',
        'llm.input_messages.0.message.role': 'user',
        'llm.input_messages.0.message.content': `Write a brief follow-up email. ${ask}`,
        'llm.output_messages.0.message.role': 'assistant',
        'llm.output_messages.0.message.content': email,
        'llm.token_count.prompt': 180,
        'llm.token_count.completion': 90,
        'llm.token_count.total': 270,
      }),
      span(traceId, root, undefined, 'generate_sales_email', startMs, endMs, {
        'openinference.span.kind': 'AGENT',
        'input.value': input,
        'input.mime_type': 'application/json',
        'output.value': JSON.stringify({ email }),
        'output.mime_type': 'application/json',
      }),
    ],
  };
}

async function post(httpPort: number, spans: ReadableSpan[]): Promise<void> {
  const body = ProtobufTraceSerializer.serializeRequest(spans);
  if (!body) throw new Error('serializer produced nothing');
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`http://127.0.0.1:${httpPort}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'x-tracehouse-project': PROJECT },
      body,
    });
    await res.arrayBuffer();
    if (res.ok) return;
    if ((res.status !== 503 && res.status !== 429) || attempt >= 5) throw new Error(`OTLP export answered ${res.status}`);
    await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
  }
}

// ---------------------------------------------------------------------------------------------
// One run
// ---------------------------------------------------------------------------------------------

interface RunReport {
  concurrency: number;
  judges: number;
  sentTraces: number;
  sampledTraces: number;
  scoredTraces: number;
  assessments: number;
  unfinishedTraces: number;
  assessmentsPerSecLoaded: number;
  assessmentsPerSecOverall: number;
  ceilingCallsPerSec: number;
  demandCallsPerSec: number;
  endToWrittenMs: { p50: number; p95: number; max: number };
  maxLagSeconds: number;
  lagAtEndOfLoadSeconds: number;
  queuedAtEndOfLoad: number;
  maxQueued: number;
  drainSeconds: number;
  overflow: number;
  peakRssBytes: number;
  bounded: boolean;
  judgeCalls: number;
}

async function runOnce(concurrency: number, stub: JudgeStub): Promise<RunReport> {
  const dir = mkdtempSync(join(tmpdir(), 'tracehouse-evalbench-'));
  const [httpPort, apiPort] = [await freePort(), await freePort()];
  const configFile = join(dir, 'tracehouse.yaml');
  writeFileSync(
    configFile,
    stringify({
      evaluator: {
        settle_ms: settleMs,
        concurrency,
        judge: { base_url: stub.url, api_key: 'bench', rpm_per_model: Number(values.rpm), timeout_ms: 30_000 },
        scorers: JUDGE_SCORERS.map((s) => ({ ...s, sample_rate: sampleRate })),
      },
    }),
  );
  const args = [
    'start',
    '--config',
    configFile,
    '--data-dir',
    join(dir, 'chdb'),
    '--http-port',
    String(httpPort),
    '--api-port',
    String(apiPort),
    '--grpc-enabled',
    'false',
    '--http-host',
    '127.0.0.1',
    '--api-host',
    '127.0.0.1',
    '--log-level',
    'warn',
  ];
  const api = `http://127.0.0.1:${apiPort}`;
  const server = await startProc(args, `${api}/readyz`, [], { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' });
  const pid = server.pid;
  const callsBefore = stub.calls.length;
  try {
    const rng = new Rng(Number(values.seed) + concurrency);
    const incomingPerSec = sampledPerMin / 60 / sampleRate;
    const traces: Array<{ traceId: string; endMs: number; sampled: boolean }> = [];
    const samples: MetricSample[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          samples.push(await sampleMetrics(api));
        } catch {
          // a missed sample is fine
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();

    log(`  concurrency ${concurrency}: sending ${fmt(incomingPerSec, 1)} traces/s for ${durationS} s…`);
    const m0 = await sampleMetrics(api);
    const t0 = Date.now();
    let sent = 0;
    let lastReport = t0;
    while (Date.now() - t0 < durationS * 1000) {
      const due = Math.floor(((Date.now() - t0) / 1000) * incomingPerSec) - sent;
      if (due > 0) {
        const now = Date.now();
        const batch = Array.from({ length: due }, () => makeTrace(rng, now));
        for (const b of batch) traces.push({ traceId: b.traceId, endMs: now, sampled: isSampled(b.traceId, sampleRate) });
        sent += due;
        await post(
          httpPort,
          batch.flatMap((b) => b.spans),
        );
      }
      if (Date.now() - lastReport >= 15_000) {
        lastReport = Date.now();
        const s = samples[samples.length - 1];
        if (s)
          log(
            `    t=${fmt((Date.now() - t0) / 1000)} s  sent ${sent}  scored ${s.scored - m0.scored}  lag ${fmt(s.lag, 1)} s  queued ${s.queued}  pending ${s.pending}`,
          );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const loadEnd = Date.now();
    const mLoad = await sampleMetrics(api);
    const sampled = traces.filter((t) => t.sampled);

    // Drain: until every sampled trace is scored, or the drain timeout.
    let mEnd = mLoad;
    while (mEnd.scored - m0.scored < sampled.length && Date.now() - loadEnd < drainTimeoutS * 1000) {
      await new Promise((r) => setTimeout(r, 500));
      mEnd = await sampleMetrics(api);
    }
    const drainEnd = Date.now();
    polling = false;
    await poller;
    const rss = peakRss(pid);

    // When each assessment was written, from the API.
    const latencies: number[] = [];
    let lastWritten = t0;
    let unfinished = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < sampled.length) {
        const tr = sampled[next++]!;
        const res = await fetch(`${api}/api/v1/traces/${tr.traceId}/assessments?project=${PROJECT}`);
        const body = (await res.json()) as { assessments: Array<{ create_time: string; error: string | null }> };
        if (body.assessments.length < judges) unfinished++;
        for (const a of body.assessments) {
          const written = Date.parse(a.create_time.replace(/(\.\d{3})\d*Z$/, '$1Z'));
          latencies.push(written - tr.endMs);
          lastWritten = Math.max(lastWritten, written);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    const loadedS = (loadEnd - t0) / 1000;
    const lagAtEnd = mLoad.lag;
    const report: RunReport = {
      concurrency,
      judges,
      sentTraces: traces.length,
      sampledTraces: sampled.length,
      scoredTraces: mEnd.scored - m0.scored,
      assessments: latencies.length,
      unfinishedTraces: unfinished,
      assessmentsPerSecLoaded: (mLoad.assessments - m0.assessments) / loadedS,
      assessmentsPerSecOverall: latencies.length / Math.max(0.001, (lastWritten - t0) / 1000),
      ceilingCallsPerSec: concurrency / (judgeDelayMs / 1000),
      demandCallsPerSec: (sampledPerMin / 60) * judges,
      endToWrittenMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: Math.max(...latencies) },
      maxLagSeconds: Math.max(0, ...samples.map((s) => s.lag)),
      lagAtEndOfLoadSeconds: lagAtEnd,
      queuedAtEndOfLoad: mLoad.queued,
      maxQueued: Math.max(0, ...samples.map((s) => s.queued)),
      drainSeconds: (drainEnd - loadEnd) / 1000,
      overflow: mEnd.overflow,
      peakRssBytes: rss,
      bounded: lagAtEnd < 5 && lagAtEnd < durationS / 2,
      judgeCalls: stub.calls.length - callsBefore,
    };
    return report;
  } finally {
    const killer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
    await server.stop();
    clearTimeout(killer);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  ensureBuilt(!values['no-build']);

  log(await machineLine());
  log(
    `evaluator bench: ${fmt(sampledPerMin)} sampled traces/min (sample_rate ${sampleRate}), ${judges} judge scorer(s) ` +
      `[${JUDGE_SCORERS.map((s) => s.name ?? s.type).join(', ')}], judge answers after ${judgeDelayMs} ms, settle_ms ${settleMs}, ${durationS} s of load`,
  );
  const stub = await startJudgeStub({ mode: { mode: 'delay', ms: judgeDelayMs } });
  const reports: RunReport[] = [];
  try {
    for (const c of concurrencies) {
      const r = await runOnce(c, stub);
      reports.push(r);
      log(
        `  concurrency ${c}: ${fmt(r.assessmentsPerSecLoaded, 1)} assessments/s loaded (${fmt(r.assessmentsPerSecOverall, 1)} overall); ` +
          `end→written p50 ${fmt(r.endToWrittenMs.p50)} ms p95 ${fmt(r.endToWrittenMs.p95)} ms max ${fmt(r.endToWrittenMs.max)} ms; ` +
          `lag max ${fmt(r.maxLagSeconds, 1)} s, at end of load ${fmt(r.lagAtEndOfLoadSeconds, 1)} s; ${r.bounded ? 'BOUNDED' : 'NOT BOUNDED'}`,
      );
    }
  } finally {
    await stub.close();
  }

  if (values.json) {
    process.stdout.write(`${JSON.stringify({ machine: await machineLine(), options: values, reports }, null, 2)}\n`);
    return;
  }
  const rows: string[][] = [
    ['concurrency', ...reports.map((r) => String(r.concurrency))],
    ['sampled traces (sent)', ...reports.map((r) => `${r.sampledTraces} (${r.sentTraces})`)],
    ['traces scored / unfinished', ...reports.map((r) => `${r.scoredTraces} / ${r.unfinishedTraces}`)],
    ['assessments written', ...reports.map((r) => String(r.assessments))],
    ['judge calls', ...reports.map((r) => String(r.judgeCalls))],
    ['assessments/s while loaded', ...reports.map((r) => fmt(r.assessmentsPerSecLoaded, 1))],
    ['assessments/s overall', ...reports.map((r) => fmt(r.assessmentsPerSecOverall, 1))],
    ['demand (judge calls/s)', ...reports.map((r) => fmt(r.demandCallsPerSec, 1))],
    [`ceiling concurrency/${judgeDelayMs / 1000} s`, ...reports.map((r) => fmt(r.ceilingCallsPerSec, 1))],
    ['end→written p50 (ms)', ...reports.map((r) => fmt(r.endToWrittenMs.p50))],
    ['end→written p95 (ms)', ...reports.map((r) => fmt(r.endToWrittenMs.p95))],
    ['end→written max (ms)', ...reports.map((r) => fmt(r.endToWrittenMs.max))],
    ['max lag on /metrics (s)', ...reports.map((r) => fmt(r.maxLagSeconds, 1))],
    ['lag at end of load (s)', ...reports.map((r) => fmt(r.lagAtEndOfLoadSeconds, 1))],
    ['queued at end of load (max)', ...reports.map((r) => `${r.queuedAtEndOfLoad} (${r.maxQueued})`)],
    ['drain after load (s)', ...reports.map((r) => fmt(r.drainSeconds, 1))],
    ['overflow', ...reports.map((r) => String(r.overflow))],
    ['server peak RSS (MB)', ...reports.map((r) => fmt(mb(r.peakRssBytes)))],
    ['lag bounded', ...reports.map((r) => (r.bounded ? 'yes' : 'NO'))],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  process.stdout.write(`${rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n')}\n`);
  process.stdout.write(`(end→written includes settle_ms ${settleMs}; the ceiling is judge calls/s, demand is sampled traces/s × ${judges} judges)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
