import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openStore } from '../../src/exporters/clickhouse/client.js';
import type { TraceDetailView, TraceInfoView } from '../../src/api/views.js';
import { getJson, removeDir, startTestApp } from '../helpers/app.js';

/**
 * The embedded store's file journal across a real SIGKILL: a process dies with one write journaled
 * complete (its spans committed, its trace summary not) and another only prepared (`.pending`). The next
 * start completes the first exactly once — the replayed spans insert folds onto the committed one by its
 * deduplication token — and drops the second; a further restart changes nothing. No timing: the child
 * says when it has reached that state, and its connection holds the statement it must not run.
 */
const CHILD = fileURLToPath(new URL('../helpers/journal-child.ts', import.meta.url));
const SPANS = 50;
const COMPLETE = 'a'.repeat(31) + '1';
const PENDING = 'b'.repeat(31) + '2';
const dataDir = mkdtempSync(join(tmpdir(), 'tracehouse-journal-'));
afterAll(() => removeDir(dataDir));

async function crashChild(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, COMPLETE, PENDING, String(SPANS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  while (!out.includes('ready\n')) {
    if (child.exitCode !== null) throw new Error(`journal child exited early:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  await exited;
}

async function check(): Promise<void> {
  const t = await startTestApp({ dataDir });
  try {
    const detail = await getJson<TraceDetailView>(`${t.api}/api/v1/traces/${COMPLETE}?project=journal`);
    expect(detail.status).toBe(200);
    expect(new Set(detail.body.spans.map((s) => s.span_id)).size).toBe(SPANS);
    const list = await getJson<{ traces: TraceInfoView[] }>(`${t.api}/api/v1/traces?project=journal`);
    expect(list.body.traces.map((x) => [x.trace_id, x.span_count])).toEqual([[COMPLETE, SPANS]]);
    expect((await getJson(`${t.api}/api/v1/traces/${PENDING}?project=journal`)).status).toBe(404);
    expect(readdirSync(join(dataDir, 'write-journal'))).toEqual([]);
  } finally {
    await t.stop();
  }
  // Exactly once in the table itself, not only through the API's folding of copies.
  const store = await openStore(loadConfig({ env: {}, overrides: { 'store.path': dataDir } }).store);
  try {
    const rs = await store.reader.query({
      query: `SELECT trace_id, count() AS n FROM spans FINAL GROUP BY trace_id UNION ALL SELECT 'raw', count() FROM spans`,
      format: 'JSONEachRow',
    });
    const counts = Object.fromEntries((await rs.json<{ trace_id: string; n: string }>()).map((r) => [r.trace_id, Number(r.n)]));
    expect(counts).toEqual({ [COMPLETE]: SPANS, raw: SPANS });
  } finally {
    await store.close();
  }
}

describe('file journal across SIGKILL', () => {
  it('replays a complete write exactly once and drops a pending one', async () => {
    await crashChild();
    const journal = readdirSync(join(dataDir, 'write-journal')).sort();
    expect(journal).toHaveLength(2);
    expect(journal.some((d) => d.endsWith('.pending'))).toBe(true);
    expect(existsSync(join(dataDir, 'write-journal', journal.find((d) => !d.endsWith('.pending')) as string, 'manifest.json'))).toBe(true);
    await check();
    await check();
  }, 180_000);
});
