import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openStore, type Store } from '../../src/exporters/clickhouse/client.js';
import { removeDir } from '../helpers/app.js';

/** `store.read_cache_bytes` sizes the embedded engine's uncompressed cache, which the reader uses. */
async function withStore(overrides: Record<string, unknown>, fn: (store: Store) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tracehouse-read-cache-'));
  const store = await openStore(loadConfig({ env: {}, overrides: { 'store.path': dir, ...overrides } }).store);
  try {
    await fn(store);
  } finally {
    await store.close();
    removeDir(dir);
  }
}
const value = async (store: Store, query: string): Promise<string> => {
  const [row] = await (await store.reader.query({ query, format: 'JSONEachRow' })).json<{ v: string | number }>();
  return String(row?.v);
};
const hits = (store: Store): Promise<string> => value(store, "SELECT sum(value) AS v FROM system.events WHERE event = 'UncompressedCacheHits'");

describe('the embedded read cache', () => {
  it('is sized by the config, and a repeated read by the reader is served from it', async () => {
    await withStore({ 'store.read_cache_bytes': 64 * 1024 * 1024 }, async (store) => {
      expect(await value(store, "SELECT value AS v FROM system.server_settings WHERE name = 'uncompressed_cache_size'")).toBe(String(64 * 1024 * 1024));
      expect(await value(store, "SELECT value AS v FROM system.settings WHERE name = 'use_uncompressed_cache'")).toBe('1');
      await store.writer.command({ query: 'CREATE TABLE t (k UInt64, s String) ENGINE = MergeTree ORDER BY k' });
      await store.writer.command({ query: "INSERT INTO t SELECT number, repeat('x', 100) FROM numbers(100000)" });
      const read = 'SELECT sum(length(s)) AS v FROM t WHERE k >= 5000 AND k < 6000';
      expect(await value(store, read)).toBe('100000');
      const before = Number(await hits(store));
      expect(await value(store, read)).toBe('100000');
      expect(Number(await hits(store))).toBeGreaterThan(before);
    });
  });

  it('is off at 0', async () => {
    await withStore({ 'store.read_cache_bytes': 0 }, async (store) => {
      expect(await value(store, "SELECT value AS v FROM system.server_settings WHERE name = 'uncompressed_cache_size'")).toBe('0');
      expect(await value(store, "SELECT value AS v FROM system.settings WHERE name = 'use_uncompressed_cache'")).toBe('0');
    });
  });
});
