/**
 * End-to-end ingest: OTLP/HTTP protobuf into `tracehouse start` (the embedded store) running as a child
 * process, then the insert ceiling of the same rows in another child process, in the same run.
 *
 *   npx tsx bench/ingest.bench.ts [--requests 200] [--spans-per-request 100] [--concurrency 4]
 *                                 [--warmup-requests 20] [--text-scale 1] [--no-build] [--no-ceiling]
 *                                 [--base DIR] [--rounds 2] [--insert-format rowbinary|jsoneachrow] [--json]
 *
 * --base DIR: a built checkout of the old main (dist/ and src/): its `dist/cli/main.js` runs as the
 * baseline server, in rounds alternating with this checkout's (same workload, fresh data dir each), so the
 * ratios come from one run. The ceiling runs JSONEachRow (client.insert) and RowBinary (FROM INFILE, as the
 * embedded writer does) inserts of the same rows. --json prints one line with a `targets` array.
 *
 * Reports: spans/s and MB/s of request bodies (wall time from first send to last ack), server CPU seconds
 * per 100k spans (/proc/<pid>/stat utime+stime around the timed phase), server peak RSS (VmHWM), request
 * latency p50/p95/p99, the server's average write batch (from /metrics), a check that every span is
 * queryable through the API, and end-to-end spans/s as a fraction of the ceiling's rows/s.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CeilingReport } from './lib/insert-ceiling.js';
import { CLI, ROOT, cpuSeconds, ensureBuilt, freePort, metric, peakRss, sendAll as sendWith, startProc } from './lib/harness.js';
import { fmt, machineLine, mb, median, percentile } from './lib/stats.js';
import { buildWorkload, warmupOf, type Workload } from './lib/workload.js';
import { boundTarget, ratioTarget, type TargetFigure } from './lib/targets.js';
import { writeFileSync } from 'node:fs';

const PROJECT = 'bench';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    'spans-per-request': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '4' },
    'warmup-requests': { type: 'string', default: '40' },
    'text-scale': { type: 'string', default: '1' },
    seed: { type: 'string', default: '7' },
    'batch-max-spans': { type: 'string' },
    'batch-max-wait-ms': { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    'no-ceiling': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    base: { type: 'string' },
    rounds: { type: 'string', default: '2' },
    'insert-format': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const concurrency = Number(values.concurrency);
const warmupRequests = Number(values['warmup-requests']);

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

interface SearchPage {
  traces: Array<{ trace_id: string; span_count: number }>;
  next_page_token: string | null;
}

/** Pages through the API's search and sums span_count: every span must be readable back. */
async function countViaApi(api: string, fromMs: number, toMs: number): Promise<{ traces: number; spans: number; ms: number }> {
  const t0 = performance.now();
  let token: string | null = null;
  let traces = 0;
  let spans = 0;
  do {
    const q = new URLSearchParams({ project: PROJECT, from: String(fromMs), to: String(toMs), max_results: '1000' });
    if (token) q.set('page_token', token);
    const res = await fetch(`${api}/api/v1/traces?${q.toString()}`);
    if (res.status !== 200) throw new Error(`search failed: HTTP ${res.status} ${await res.text()}`);
    const page = (await res.json()) as SearchPage;
    traces += page.traces.length;
    for (const t of page.traces) spans += t.span_count;
    token = page.next_page_token;
  } while (token);
  return { traces, spans, ms: performance.now() - t0 };
}

// ---------------------------------------------------------------------------------------------

interface IngestReport {
  spans: number;
  requests: number;
  concurrency: number;
  bodyBytes: number;
  wallMs: number;
  spansPerSec: number;
  mbPerSec: number;
  serverCpuSecondsPer100k: number;
  /** Server CPU seconds per wall second of the timed phase (1 = one core busy). */
  serverCpuUtilization: number;
  serverPeakRssBytes: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  retries: number;
  server: { spansWritten: number; writeBatches: number; avgBatchSpans: number };
  verify: { traces: number; spans: number; ms: number; expectedTraces: number; ok: boolean };
}

async function runServer(
  label: 'base' | 'new',
  cli: string,
  workload: Workload,
  bodies: Buffer[],
  warm: { bodies: Buffer[] },
  spans: number,
  traces: unknown[],
  bodyBytes: number,
  configFile: string | undefined,
): Promise<IngestReport> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tracehouse-ingest-'));
  const [httpPort, grpcPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const nodeArgs = values['cpu-prof'] && label === 'new' ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [];
  const args = [
    'start',
    '--data-dir',
    dataDir,
    '--http-port',
    String(httpPort),
    '--grpc-port',
    String(grpcPort),
    '--api-port',
    String(apiPort),
    '--http-host',
    '127.0.0.1',
    '--grpc-host',
    '127.0.0.1',
    '--api-host',
    '127.0.0.1',
    '--log-level',
    'warn',
    ...(configFile ? ['--config', configFile] : []),
    ...(values['batch-max-spans'] ? ['--batch-max-spans', values['batch-max-spans']] : []),
    ...(values['batch-max-wait-ms'] ? ['--batch-max-wait-ms', values['batch-max-wait-ms']] : []),
  ];
  const api = `http://127.0.0.1:${apiPort}`;
  const s0 = performance.now();
  const server = await startProc(args, `${api}/readyz`, nodeArgs, {}, cli);
  const pid = server.pid;
  log(`${label} server pid ${pid} ready in ${fmt(performance.now() - s0)} ms (data dir ${dataDir})`);
  const sendAll = (port: number, list: Buffer[], project: string): ReturnType<typeof sendWith> => sendWith(port, list, project, concurrency);

  let report: IngestReport | undefined;
  try {
    // Warm-up under another project, so the count below sees only the measured spans.
    await sendAll(httpPort, warm.bodies, `${PROJECT}-warmup`);
    const written0 = await metric(api, 'tracehouse_spans_written_total');
    const inserts0 = await metric(api, 'tracehouse_insert_seconds_count');
    const cpu0 = cpuSeconds(pid);

    const run = await sendAll(httpPort, bodies, PROJECT);

    const cpu1 = cpuSeconds(pid);
    const rss = peakRss(pid);
    const written = (await metric(api, 'tracehouse_spans_written_total')) - written0;
    const inserts = (await metric(api, 'tracehouse_insert_seconds_count')) - inserts0;
    const avgBatch = written / Math.max(1, inserts);
    const fromMs = workload.endMs - workload.windowMs - 60_000;
    const count = await countViaApi(api, fromMs, workload.endMs + 3_600_000);

    const spansPerSec = spans / (run.wallMs / 1000);
    report = {
      spans,
      requests: bodies.length,
      concurrency,
      bodyBytes,
      wallMs: run.wallMs,
      spansPerSec,
      mbPerSec: mb(bodyBytes) / (run.wallMs / 1000),
      serverCpuSecondsPer100k: ((cpu1 - cpu0) / spans) * 100_000,
      serverCpuUtilization: (cpu1 - cpu0) / (run.wallMs / 1000),
      serverPeakRssBytes: rss,
      latencyMs: {
        p50: percentile(run.latenciesMs, 50),
        p95: percentile(run.latenciesMs, 95),
        p99: percentile(run.latenciesMs, 99),
        max: percentile(run.latenciesMs, 100),
      },
      retries: run.retries,
      server: { spansWritten: written, writeBatches: inserts, avgBatchSpans: avgBatch },
      verify: { ...count, expectedTraces: traces.length, ok: count.spans === spans && count.traces === traces.length },
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  if (!report) throw new Error('no report');
  log(
    `${label}: ${fmt(report.spansPerSec)} spans/s, ${fmt(report.serverCpuSecondsPer100k, 2)} CPU s/100k, RSS ${fmt(report.serverPeakRssBytes / 2 ** 20)} MiB, batch ${fmt(report.server.avgBatchSpans)}, verify ${report.verify.ok}`,
  );
  return report;
}

async function main(): Promise<void> {
  ensureBuilt(!values['no-build']);

  const workload: Workload = {
    seed: Number(values.seed),
    endMs: Date.now() - 60_000,
    windowMs: 10 * 60_000,
    requests: Number(values.requests),
    spansPerRequest: Number(values['spans-per-request']),
    textScale: Number(values['text-scale']),
  };
  const g0 = performance.now();
  const { bodies, spans, traces } = buildWorkload(workload);
  const warm = buildWorkload(warmupOf(workload, warmupRequests));
  const bodyBytes = bodies.reduce((n, b) => n + b.length, 0);
  log(
    `generated ${fmt(spans)} spans (${traces.length} traces) in ${bodies.length} requests, ${fmt(mb(bodyBytes), 1)} MB, in ${fmt(performance.now() - g0)} ms`,
  );

  const configFile = values['insert-format'] ? join(mkdtempSync(join(tmpdir(), 'tracehouse-ingest-cfg-')), 'config.yaml') : undefined;
  if (configFile) writeFileSync(configFile, `writer:\n  insert_format: ${values['insert-format']}\n`);
  const rounds = Number(values.rounds);
  const runs: { base: IngestReport[]; new: IngestReport[] } = { base: [], new: [] };
  for (let r = 0; r < rounds; r++) {
    // Alternating, base first in even rounds and second in odd ones, so a drift in the machine's load spreads over both.
    const order: Array<'base' | 'new'> = values.base ? (r % 2 ? ['new', 'base'] : ['base', 'new']) : ['new'];
    for (const label of order) {
      const cli = label === 'base' ? join(values.base as string, 'dist/cli/main.js') : CLI;
      runs[label].push(await runServer(label, cli, workload, bodies, warm, spans, traces, bodyBytes, label === 'new' ? configFile : undefined));
    }
  }
  const med = (xs: IngestReport[], f: (r: IngestReport) => number): number => median(xs.map(f));
  const report = runs.new[Math.floor(runs.new.length / 2)] as IngestReport;
  const newRate = med(runs.new, (r) => r.spansPerSec);
  const baseRate = runs.base.length ? med(runs.base, (r) => r.spansPerSec) : null;

  let ceiling: CeilingReport | null = null;
  if (!values['no-ceiling']) {
    const avg = Math.max(1, Math.round(report.server.avgBatchSpans));
    const batches = [...new Set([avg, 10_000])];
    log(`ceiling: inserting the same rows in a separate process, batches of ${batches.join(' and ')}…`);
    const c = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'bench/lib/insert-ceiling.ts'),
        '--workload',
        JSON.stringify(workload),
        '--warmup-requests',
        String(warmupRequests),
        '--batches',
        batches.join(','),
        '--modes',
        'spans,spans+traces,spans-rowbinary',
        '--reps',
        '3',
      ],
      { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 },
    );
    if (c.status !== 0) throw new Error(`insert-ceiling failed with status ${c.status}`);
    ceiling = JSON.parse(c.stdout.trim().split('\n').pop() as string) as CeilingReport;
  }

  const sameBatch = ceiling?.passes.find((p) => p.mode === 'spans' && p.batch === ceiling?.passes[0]?.batch) ?? null;
  const fraction = sameBatch ? newRate / sameBatch.rowsPerSec : null;
  const sameBinary = ceiling?.passes.find((p) => p.mode === 'spans-rowbinary' && p.batch === ceiling?.passes[0]?.batch) ?? null;
  const targets: TargetFigure[] = [];
  const T2 = '2 embedded ingest';
  if (baseRate !== null) {
    targets.push(
      ratioTarget({ target: T2, metric: 'stored spans/s', figure: newRate, unit: 'spans/s', baseline: { label: 'old main', value: baseRate } }, { min: 2 }),
    );
    targets.push({
      target: T2,
      metric: 'server CPU s per 100K spans',
      figure: med(runs.new, (r) => r.serverCpuSecondsPer100k),
      unit: 's',
      baseline: { label: 'old main', value: med(runs.base, (r) => r.serverCpuSecondsPer100k) },
      goal: 'lower than old main',
      met: med(runs.new, (r) => r.serverCpuSecondsPer100k) < med(runs.base, (r) => r.serverCpuSecondsPer100k),
    });
  }
  // The ceilings are baselines of the stored rate, so the ratio column reads as the fraction of each.
  if (sameBinary) {
    targets.push({
      target: T2,
      metric: 'stored spans/s against the RowBinary insert ceiling (same batch, spans only)',
      figure: newRate,
      unit: 'spans/s',
      baseline: { label: 'RowBinary ceiling', value: sameBinary.rowsPerSec },
      goal: 'reported',
      met: null,
    });
  }
  if (sameBatch) {
    targets.push({
      target: T2,
      metric: 'stored spans/s against the JSONEachRow insert ceiling (same batch, spans only)',
      figure: newRate,
      unit: 'spans/s',
      baseline: { label: 'JSONEachRow ceiling', value: sameBatch.rowsPerSec },
      goal: 'reported',
      met: null,
    });
  }
  if (sameBinary && sameBatch) {
    targets.push({
      target: T2,
      metric: 'RowBinary insert ceiling (same batch, spans only)',
      figure: sameBinary.rowsPerSec,
      unit: 'rows/s',
      baseline: { label: 'JSONEachRow ceiling', value: sameBatch.rowsPerSec },
      goal: 'reported',
      met: null,
    });
  }
  targets.push(
    boundTarget(
      {
        target: '5 memory',
        metric: 'embedded process peak RSS at full ingest',
        figure: Math.max(...runs.new.map((r) => r.serverPeakRssBytes)) / 2 ** 20,
        unit: 'MiB',
      },
      { max: 1024 },
    ),
  );
  const summary = {
    rounds,
    newSpansPerSec: newRate,
    baseSpansPerSec: baseRate,
    ratio: baseRate ? newRate / baseRate : null,
    newRuns: runs.new.map((r) => ({
      spansPerSec: r.spansPerSec,
      cpu: r.serverCpuSecondsPer100k,
      rssMiB: r.serverPeakRssBytes / 2 ** 20,
      batch: r.server.avgBatchSpans,
      ok: r.verify.ok,
    })),
    baseRuns: runs.base.map((r) => ({
      spansPerSec: r.spansPerSec,
      cpu: r.serverCpuSecondsPer100k,
      rssMiB: r.serverPeakRssBytes / 2 ** 20,
      batch: r.server.avgBatchSpans,
      ok: r.verify.ok,
    })),
  };
  const allOk = [...runs.new, ...runs.base].every((r) => r.verify.ok);
  if (!allOk) process.exitCode = 1;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...report, ...summary, ceiling, fractionOfCeiling: fraction, targets })}\n`);
    return;
  }
  for (const t of targets)
    console.log(
      `  target ${t.target}: ${t.metric} ${fmt(t.figure, 2)} ${t.unit}${t.baseline ? ` vs ${t.baseline.label} ${fmt(t.baseline.value, 2)}` : ''} (${t.goal}: ${t.met})`,
    );
  const r = report;
  console.log(`ingest  ${await machineLine()}`);
  console.log(
    `${fmt(spans)} spans in ${bodies.length} OTLP/HTTP protobuf requests of ${workload.spansPerRequest} (${fmt(bodyBytes / spans)} B/span), ${concurrency} keep-alive senders, after ${warmupRequests} warm-up requests`,
  );
  console.log(`  end-to-end       ${fmt(r.spansPerSec)} spans/s   ${fmt(r.mbPerSec, 1)} MB/s   (${fmt(r.wallMs)} ms wall, ${r.retries} retries)`);
  console.log(`  server CPU       ${fmt(r.serverCpuSecondsPer100k, 2)} s per 100k spans   (${fmt(r.serverCpuUtilization * 100)}% of one core on average)`);
  console.log(`  server peak RSS  ${fmt(r.serverPeakRssBytes / 2 ** 20)} MiB`);
  console.log(
    `  latency          p50 ${fmt(r.latencyMs.p50, 1)} ms   p95 ${fmt(r.latencyMs.p95, 1)} ms   p99 ${fmt(r.latencyMs.p99, 1)} ms   max ${fmt(r.latencyMs.max, 1)} ms`,
  );
  console.log(`  write batches    ${r.server.writeBatches}, ${fmt(r.server.avgBatchSpans)} spans on average`);
  console.log(
    `  queryable        ${r.verify.ok ? 'OK' : 'MISMATCH'}: API search found ${fmt(r.verify.traces)}/${fmt(r.verify.expectedTraces)} traces, ${fmt(r.verify.spans)}/${fmt(spans)} spans (${fmt(r.verify.ms)} ms)`,
  );
  if (ceiling) {
    console.log(
      `  ceiling          ${fmt(ceiling.rows)} rows of ${fmt(ceiling.jsonBytesPerRow)} B JSON, client.insert JSONEachRow into a fresh embedded store (median of reps):`,
    );
    for (const p of ceiling.passes) {
      console.log(
        `                     batch ${String(p.batch).padStart(5)} ${p.mode.padEnd(13)} ${fmt(p.rowsPerSec).padStart(7)} rows/s  ${fmt(p.mbPerSec, 1)} MB/s  ${fmt(p.cpuSecondsPer100k, 2)} CPU s/100k  (reps ${p.repsRowsPerSec.join(', ')})`,
      );
    }
    const pct = (p: { rowsPerSec: number } | undefined): string => (p ? `${fmt((r.spansPerSec / p.rowsPerSec) * 100)}%` : 'n/a');
    const first = ceiling.passes[0]?.batch;
    const at = (batch: number | undefined, mode: string) => ceiling?.passes.find((p) => p.batch === batch && p.mode === mode);
    if (fraction !== null) console.log(`  end-to-end / ceiling (same batch, spans only): ${fmt(fraction * 100)}%   (target ≥ 60%)`);
    console.log(
      `    same batch, spans+traces (the server's work): ${pct(at(first, 'spans+traces'))};  batch 10000, spans only: ${pct(at(10_000, 'spans'))}; ` +
        `server CPU per span ${fmt(r.serverCpuSecondsPer100k / (at(first, 'spans+traces')?.cpuSecondsPer100k ?? NaN), 2)}× the same-batch spans+traces ceiling's`,
    );
  }
  if (!r.verify.ok) process.exitCode = 1;
}

await main();
