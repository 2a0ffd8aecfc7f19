/**
 * Search and trace-detail latency over a realistic store: `--spans` (default 1M) GenAI spans spread over
 * the last 24 hours, loaded in-process through the real write stage (OTLP protobuf → decode → validate →
 * StoreWriter.consume, ~20k spans per batch, arriving in time order as live traffic does; untimed, but
 * the load rate is printed). Once background merges have settled, on the reader connection, `--runs`
 * timed runs each (after warm-up), interleaved so machine noise hits all of them alike, of:
 *   search, no filter                   TraceReader.search over a random 1-hour window, 100 results
 *   search, span.model = …              same, with a span filter matching ~35% of traces
 *   search, metadata.customer_tier = …  same, with a metadata filter matching ~5% of traces
 *   getTrace                            TraceReader.getTraceRecord of a random known trace id
 *   baseline: SELECT 1                  one round trip on the same connection (the noise floor)
 * reporting wall p50/p95/p99 (target p95 < 100 ms), median CPU ms per run, and the store's size on disk.
 *
 *   npx tsx bench/search.bench.ts [--spans 1000000] [--batch 20000] [--runs 200] [--data-dir DIR [--keep]]
 * With --data-dir pointing at a store a previous run kept (--keep), loading is skipped.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SpanGroup } from '../src/component/consumer.js';
import { loadConfig } from '../src/config/load.js';
import { TraceReader } from '../src/query/trace-reader.js';
import { openStore, type Store } from '../src/exporters/clickhouse/client.js';
import { migrate } from '../src/exporters/clickhouse/migrate.js';
import { StoreWriter } from '../src/exporters/clickhouse/writer.js';
import { GenAITraceGenerator, Rng, serializeSpans } from './lib/genai-spans.js';
import { decodeToGroups } from './lib/pipeline.js';
import { fmt, machineLine, percentile } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    spans: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '10' },
    seed: { type: 'string', default: '11' },
    'text-scale': { type: 'string', default: '1' },
    'data-dir': { type: 'string' },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const PROJECT = 'bench';
const DAY_MS = 24 * 3_600_000;
const HOUR_MS = 3_600_000;
const REQUEST_SPANS = 500;
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** What a loaded store needs to be queried again later: its time window and some trace ids. */
interface LoadMeta {
  spans: number;
  traces: number;
  endMs: number;
  windowMs: number;
  sampleIds: string[];
  load: { generateMs: number; writeMs: number; spansPerSec: number };
}

async function load(store: Store, spans: number, batch: number): Promise<LoadMeta> {
  const endMs = Date.now();
  const traces = Math.ceil(spans / 3);
  const gen = new GenAITraceGenerator({ seed: Number(values.seed), endMs, windowMs: DAY_MS, traces, textScale: Number(values['text-scale']) });
  const writer = new StoreWriter(store.writer, { previewChars: 1000 });
  const sampleEvery = Math.max(1, Math.floor(traces / 2000));
  const sampleIds: string[] = [];
  let seen = 0;
  let generateMs = 0;
  let writeMs = 0;
  for (let done = 0; done < spans; ) {
    const n = Math.min(batch, spans - done);
    const g0 = performance.now();
    const groups: SpanGroup[] = [];
    // Through protobuf and the real decoder, in exporter-sized requests, so rows are what the server builds.
    for (let i = 0; i < n; i += REQUEST_SPANS) {
      const part = gen.nextSpans(Math.min(REQUEST_SPANS, n - i), (t) => {
        if (seen++ % sampleEvery === 0) sampleIds.push(t.traceId);
      });
      groups.push(...decodeToGroups(serializeSpans(part), PROJECT));
    }
    const w0 = performance.now();
    await writer.consume({ spans: groups, logs: [] });
    const w1 = performance.now();
    generateMs += w0 - g0;
    writeMs += w1 - w0;
    done += n;
    if ((done / batch) % 10 === 0 || done === spans) {
      log(`  loaded ${fmt(done)} spans: write ${fmt(done / (writeMs / 1000))} spans/s, generate ${fmt(generateMs / 1000, 1)} s`);
    }
  }
  return { spans, traces, endMs, windowMs: DAY_MS, sampleIds, load: { generateMs, writeMs, spansPerSec: spans / (writeMs / 1000) } };
}

function duBytes(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.blocks * 512;
  let n = 0;
  for (const e of readdirSync(path)) n += duBytes(join(path, e));
  return n;
}

interface PartsRow {
  table: string;
  parts: string;
  rows: string;
  bytes_on_disk: string;
  data_uncompressed_bytes: string;
}

async function storeSize(store: Store): Promise<PartsRow[]> {
  const rs = await store.reader.query({
    query: `SELECT table, count() AS parts, sum(rows) AS rows, sum(bytes_on_disk) AS bytes_on_disk, sum(data_uncompressed_bytes) AS data_uncompressed_bytes
            FROM system.parts WHERE active AND database = currentDatabase() AND table IN ('spans', 'traces', 'events', 'assessments')
            GROUP BY table ORDER BY table`,
    format: 'JSONEachRow',
  });
  return rs.json<PartsRow>();
}

interface Timing {
  name: string;
  runs: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Median CPU time of this process (JS + chDB threads) per run: steadier than wall time on a shared box. */
  cpuMs: number;
  /** Average traces (search) or spans (getTrace) returned: shows the queries did real work. */
  avgResults: number;
}

interface Op {
  name: string;
  run: (i: number) => Promise<number>;
}

/**
 * Warms each op up, then runs them interleaved (op1, op2, …, op1, op2, …) so that load from elsewhere on
 * the machine hits every op alike and the ops' numbers stay comparable within the run.
 */
async function timeInterleaved(ops: readonly Op[], runs: number, warmup: number): Promise<Timing[]> {
  for (const op of ops) for (let i = 0; i < warmup; i++) await op.run(-1 - i);
  const wall = ops.map(() => [] as number[]);
  const cpu = ops.map(() => [] as number[]);
  const results = ops.map(() => 0);
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < ops.length; k++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      results[k] = (results[k] as number) + (await (ops[k] as Op).run(i));
      wall[k]?.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[k]?.push((c.user + c.system) / 1000);
    }
  }
  return ops.map((op, k) => {
    const w = wall[k] as number[];
    return {
      name: op.name,
      runs,
      p50: percentile(w, 50),
      p95: percentile(w, 95),
      p99: percentile(w, 99),
      max: percentile(w, 100),
      cpuMs: percentile(cpu[k] as number[], 50),
      avgResults: (results[k] as number) / runs,
    };
  });
}

/** Background merges compete for the 2 cores: measure the settled store, as a long-running service sees it. */
async function waitForMerges(store: Store, maxMs: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const rs = await store.reader.query({ query: 'SELECT count() AS n FROM system.merges', format: 'JSONEachRow' });
    const [row] = await rs.json<{ n: string | number }>();
    if (Number(row?.n ?? 0) === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const spans = Number(values.spans);
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  const dir = values['data-dir'] ?? mkdtempSync(join(tmpdir(), 'tracehouse-search-'));
  const metaPath = join(dir, 'bench-meta.json');
  const store = await openStore(loadConfig({ env: {}, overrides: { 'store.path': dir } }).store);
  let meta: LoadMeta;
  try {
    await migrate(store.writer);
    if (existsSync(metaPath)) {
      meta = JSON.parse(readFileSync(metaPath, 'utf8')) as LoadMeta;
      log(`reusing the store in ${dir}: ${fmt(meta.spans)} spans loaded ${fmt((Date.now() - meta.endMs) / 60_000)} min ago`);
    } else {
      log(`loading ${fmt(spans)} spans into ${dir} in batches of ${fmt(Number(values.batch))}…`);
      meta = await load(store, spans, Number(values.batch));
      writeFileSync(metaPath, JSON.stringify(meta));
    }
    const partsAfterLoad = await storeSize(store);

    const reader = new TraceReader(store.reader);
    const rng = new Rng(Number(values.seed) + 1);
    // A random 1-hour window inside the loaded day (fixed by the seed, same windows for every search).
    const windows = Array.from({ length: runs + warmup }, () => {
      const from = meta.endMs - meta.windowMs + Math.floor(rng.next() * (meta.windowMs - HOUR_MS));
      return { fromNs: BigInt(from) * 1_000_000n, toNs: BigInt(from + HOUR_MS) * 1_000_000n };
    });
    const search =
      (filter: string) =>
      async (i: number): Promise<number> => {
        const w = windows[i < 0 ? runs - 1 - i : i] as { fromNs: bigint; toNs: bigint };
        const r = await reader.search({ project: PROJECT, ...w, filter, orderBy: [], maxResults: 100, offset: 0 });
        return r.traces.length;
      };
    const ops: Op[] = [
      { name: 'search, no filter', run: search('') },
      { name: "search, span.model = 'gpt-4o-mini-2024-07-18'", run: search("span.model = 'gpt-4o-mini-2024-07-18'") },
      { name: "search, metadata.customer_tier = 'enterprise'", run: search("metadata.customer_tier = 'enterprise'") },
      {
        name: 'getTrace',
        run: async () => {
          const id = rng.pick(meta.sampleIds);
          const t = await reader.getTraceRecord(PROJECT, id);
          if (!t) throw new Error(`trace ${id} not found`);
          return t.spans.length;
        },
      },
      // The noise floor: one round trip through the same client and connection.
      {
        name: 'baseline: SELECT 1',
        run: async () => (await (await store.reader.query({ query: 'SELECT 1 AS x', format: 'JSONEachRow' })).json()).length,
      },
    ];
    const mergeWaitMs = await waitForMerges(store, 180_000);
    log(`  background merges settled after ${fmt(mergeWaitMs / 1000, 1)} s; timing ${ops.length} ops × ${runs} runs, interleaved…`);
    const timings = await timeInterleaved(ops, runs, warmup);
    const parts = await storeSize(store);
    const disk = duBytes(dir);

    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ meta: { ...meta, sampleIds: meta.sampleIds.length }, mergeWaitMs, timings, partsAfterLoad, parts, diskBytes: disk })}\n`,
      );
    } else {
      console.log(`search  ${await machineLine()}`);
      console.log(
        `${fmt(meta.spans)} spans (${fmt(meta.traces)} traces) over 24 h; load (untimed): write stage ${fmt(meta.load.spansPerSec)} spans/s ` +
          `(${fmt(meta.load.writeMs / 1000, 1)} s), generation + protobuf + decode ${fmt(meta.load.generateMs / 1000, 1)} s`,
      );
      console.log(`query                                            runs    p50 ms    p95 ms    p99 ms    max ms  CPU ms p50  avg results`);
      for (const t of timings) {
        console.log(
          `${t.name.padEnd(48)} ${String(t.runs).padStart(4)} ${fmt(t.p50, 1).padStart(9)} ${fmt(t.p95, 1).padStart(9)} ${fmt(t.p99, 1).padStart(9)} ${fmt(t.max, 1).padStart(9)} ${fmt(t.cpuMs, 1).padStart(11)} ${fmt(t.avgResults, 1).padStart(12)}`,
        );
      }
      const active = parts.reduce((n, p) => n + Number(p.bytes_on_disk), 0);
      console.log(
        `store on disk: ${fmt(active / 1e6, 1)} MB in active parts; du of the data directory ${fmt(disk / 1e6, 1)} MB ` +
          `(also counts merged-away parts ClickHouse deletes after old_parts_lifetime, 8 min)`,
      );
      for (const p of parts) {
        const before = partsAfterLoad.find((x) => x.table === p.table);
        console.log(
          `  ${p.table.padEnd(8)} ${fmt(Number(p.rows)).padStart(10)} rows  ${fmt(Number(p.bytes_on_disk) / 1e6, 1).padStart(8)} MB on disk  ` +
            `${fmt(Number(p.data_uncompressed_bytes) / 1e6, 1).padStart(8)} MB uncompressed (${fmt(Number(p.data_uncompressed_bytes) / Math.max(1, Number(p.rows)))} B/row, ` +
            `${fmt(Number(p.data_uncompressed_bytes) / Math.max(1, Number(p.bytes_on_disk)), 1)}×)  ${p.parts} active parts (${before?.parts ?? '?'} after load)`,
        );
      }
    }
  } finally {
    await store.close();
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
    else log(`kept the store in ${dir} (rerun with --data-dir ${dir} to skip loading)`);
  }
}

await main();
