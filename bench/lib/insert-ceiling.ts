/**
 * The ceiling for embedded ingest: the same span rows the server would write, built beforehand (untimed),
 * inserted into a fresh embedded store with `client.insert(JSONEachRow)` in fixed batch sizes. Nothing
 * else runs in this process, so rows/s here is what chDB + @clickhouse/client can take; the ingest
 * benchmark starts it as a child process (chDB binds one data directory per process) after its server
 * has exited, so the two never share the 2 cores.
 *
 *   npx tsx bench/lib/insert-ceiling.ts --workload '<json Workload>' --warmup-requests 20 --batches 400,10000
 * Prints progress on stderr and one JSON line (CeilingReport) on stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config/load.js';
import { openStore } from '../../src/exporters/clickhouse/client.js';
import { migrate } from '../../src/exporters/clickhouse/migrate.js';
import { buildTraceRows } from '../../src/exporters/clickhouse/rows.js';
import { SPANS_ROWBINARY, encodeChunks } from '../../src/exporters/clickhouse/rowbinary.js';
import { writeFile } from 'node:fs/promises';
import type { SpanRow, TraceRow } from '../../src/exporters/clickhouse/tables.js';
import { buildRows, decodeToGroups } from './pipeline.js';
import { median } from './stats.js';
import { buildWorkload, warmupOf, type Workload } from './workload.js';

export interface CeilingPass {
  batch: number;
  /**
   * 'spans' inserts span rows only; 'spans+traces' also the trace summaries, as StoreWriter does (both
   * JSONEachRow through client.insert); 'spans-rowbinary' the span rows encoded (timed) as RowBinary,
   * written to a file and inserted FROM INFILE, as the embedded writer does.
   */
  mode: 'spans' | 'spans+traces' | 'spans-rowbinary';
  rows: number;
  /** Median over repetitions. */
  rowsPerSec: number;
  /** JSONEachRow bytes of the span rows per second. */
  mbPerSec: number;
  repsRowsPerSec: number[];
  /** This process's CPU (all threads: JS and chDB) per 100k span rows, median over repetitions. */
  cpuSecondsPer100k: number;
}

export interface CeilingReport {
  rows: number;
  jsonBytesPerRow: number;
  warmupMs: number;
  passes: CeilingPass[];
}

const PREVIEW_CHARS = 1000;
const PROJECT = 'bench';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workload: { type: 'string' },
      'warmup-requests': { type: 'string', default: '20' },
      batches: { type: 'string', default: '10000' },
      reps: { type: 'string', default: '5' },
      modes: { type: 'string', default: 'spans,spans+traces' },
    },
  });
  if (!values.workload) throw new Error('--workload is required');
  const workload = JSON.parse(values.workload) as Workload;
  const batches = values.batches.split(',').map(Number);
  const modes = values.modes.split(',') as CeilingPass['mode'][];
  const reps = Number(values.reps);

  // Untimed: the rows, exactly as StoreWriter builds them from the decoded requests.
  const toRows = (bodies: Buffer[]): SpanRow[] => bodies.flatMap((b) => buildRows(decodeToGroups(b, PROJECT)));
  const rows = toRows(buildWorkload(workload).bodies);
  const warmRows = toRows(buildWorkload(warmupOf(workload, Number(values['warmup-requests']))).bodies);
  const jsonBytes = rows.reduce((n, r) => n + JSON.stringify(r).length + 1, 0);

  const dir = mkdtempSync(join(tmpdir(), 'tracehouse-ceiling-'));
  const store = await openStore(loadConfig({ env: {}, overrides: { 'store.path': dir } }).store);
  try {
    await migrate(store.writer);
    const client = store.writer;
    const file = join(dir, 'ceiling.bin');
    const insertBinary = async (all: SpanRow[], batch: number): Promise<void> => {
      for (let i = 0; i < all.length; i += batch) {
        for (const bytes of encodeChunks(SPANS_ROWBINARY, all.slice(i, i + batch), 16 * 1024 * 1024)) {
          await writeFile(file, bytes);
          await client.command({
            query: `INSERT INTO spans (${SPANS_ROWBINARY.columns.join(', ')}) FROM INFILE '${file}' FORMAT RowBinary`,
            clickhouse_settings: { insert_deduplication_token: '' },
          });
        }
      }
    };
    const insertBatches = async (all: SpanRow[], batch: number, withTraces: boolean, traceRows: TraceRow[][]): Promise<void> => {
      for (let i = 0, b = 0; i < all.length; i += batch, b++) {
        await client.insert({ table: 'spans', values: all.slice(i, i + batch), format: 'JSONEachRow' });
        if (withTraces) await client.insert({ table: 'traces', values: traceRows[b] as TraceRow[], format: 'JSONEachRow' });
      }
    };
    const tracesFor = (all: SpanRow[], batch: number): TraceRow[][] => {
      const out: TraceRow[][] = [];
      for (let i = 0; i < all.length; i += batch) out.push(buildTraceRows(all.slice(i, i + batch), PREVIEW_CHARS));
      return out;
    };

    // The first chDB inserts in a process are several times slower: warm up with other rows first.
    const w0 = performance.now();
    await insertBatches(warmRows, batches[0] as number, true, tracesFor(warmRows, batches[0] as number));
    const warmupMs = performance.now() - w0;
    process.stderr.write(`ceiling: ${rows.length} rows, warm-up ${warmRows.length} rows in ${warmupMs.toFixed(0)} ms\n`);

    // Repetitions run round-robin over the (batch, mode) pairs, so load from elsewhere on the machine
    // spreads over all pairs instead of skewing one; a first untimed round warms each pair's paths.
    const pairs = batches.flatMap((batch) =>
      modes.map((mode) => ({ batch, mode, traceRows: tracesFor(rows, batch), rps: [] as number[], cpu: [] as number[] })),
    );
    for (let r = -1; r < reps; r++) {
      for (const p of pairs) {
        // Each repetition starts from the same small table (one batch of warm-up rows), as the server's run does.
        await client.command({ query: 'TRUNCATE TABLE spans' });
        await client.command({ query: 'TRUNCATE TABLE traces' });
        await insertBatches(warmRows.slice(0, p.batch), p.batch, false, []);
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        if (p.mode === 'spans-rowbinary') await insertBinary(rows, p.batch);
        else await insertBatches(rows, p.batch, p.mode === 'spans+traces', p.traceRows);
        const secs = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(c0);
        if (r < 0) continue;
        p.rps.push(rows.length / secs);
        p.cpu.push(((cpu.user + cpu.system) / 1e6 / rows.length) * 100_000);
      }
    }
    const passes: CeilingPass[] = pairs.map((p) => {
      const rps = median(p.rps);
      process.stderr.write(
        `ceiling: batch ${p.batch} ${p.mode}: ${Math.round(rps)} rows/s, ${median(p.cpu).toFixed(2)} CPU s/100k (reps ${p.rps.map(Math.round).join(', ')})\n`,
      );
      return {
        batch: p.batch,
        mode: p.mode,
        rows: rows.length,
        rowsPerSec: rps,
        mbPerSec: (rps * jsonBytes) / rows.length / 1e6,
        repsRowsPerSec: p.rps.map(Math.round),
        cpuSecondsPer100k: median(p.cpu),
      };
    });
    const report: CeilingReport = { rows: rows.length, jsonBytesPerRow: jsonBytes / rows.length, warmupMs, passes };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
