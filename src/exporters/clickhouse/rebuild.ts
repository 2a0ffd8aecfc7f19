import type { ClickHouseClient } from '@clickhouse/client';

/**
 * A table rebuilt under new MergeTree settings that ClickHouse fixes at creation (index granularity
 * cannot be altered): `engine` is the table's engine clause without its TTL and settings, which the
 * rebuilt table takes as is; the retention TTL is put back by applyRetention after migrating.
 */
export interface RebuildSpec {
  table: string;
  engine: string;
  settings: string;
}

const q = async <T>(client: ClickHouseClient, query: string, params: Record<string, unknown> = {}): Promise<T[]> =>
  (await client.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();

/**
 * Rebuilds `spec.table` with `spec.settings`, keeping its rows, columns, indexes and the materialized
 * views that read it (a view follows the table's name through EXCHANGE TABLES). Safe to run again after a
 * crash at any step: a table already carrying the settings is done, and a half-made copy is dropped and
 * made again. The copy is the table's active parts at the start with merges stopped, so rows another
 * process inserts meanwhile are exactly the parts added since, copied over after the exchange: none is
 * lost, none doubled.
 *
 * On a cluster the tables are left as they are (the copy and exchange across replicas is not something
 * this project can test): they keep the default granularity and read as before.
 */
export async function rebuildTable(
  client: ClickHouseClient,
  cluster: string,
  spec: RebuildSpec,
  /** For tests: runs between the copy and the exchange, where another process's insert may land. */
  afterCopy?: () => Promise<void>,
): Promise<'rebuilt' | 'current' | 'skipped'> {
  if (cluster) return 'skipped';
  // No deduplication of the copies: two parts may hold identical blocks, and a token left in the session
  // by an earlier insert must not apply here.
  const run = (query: string): Promise<unknown> =>
    client.command({ query, clickhouse_settings: query.startsWith('INSERT') ? { insert_deduplicate: 0, insert_deduplication_token: '' } : {} });
  const tmp = `${spec.table}_rebuild`;
  const [row] = await q<{ engine_full: string }>(client, 'SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {t:String}', {
    t: spec.table,
  });
  if (!row) throw new Error(`cannot rebuild ${spec.table}: no such table`);
  // `settings` is ours: every one of them present means the exchange already happened.
  const wanted = spec.settings.split(',').map((s) => s.trim());
  if (wanted.every((s) => row.engine_full.includes(s))) {
    await run(`DROP TABLE IF EXISTS ${tmp} SYNC`);
    return 'current';
  }
  await run(`DROP TABLE IF EXISTS ${tmp} SYNC`);
  await run(`CREATE TABLE ${tmp} AS ${spec.table} ENGINE = ${spec.engine} SETTINGS ${spec.settings}`);
  await run(`SYSTEM STOP MERGES ${spec.table}`);
  try {
    const before = (
      await q<{ name: string }>(client, 'SELECT name FROM system.parts WHERE database = currentDatabase() AND table = {t:String} AND active', { t: spec.table })
    ).map((p) => p.name);
    // Part names are the engine's own ([a-z0-9_]), quoted as they are.
    const list = before.map((p) => `'${p}'`).join(',') || "''";
    await run(`INSERT INTO ${tmp} SELECT * FROM ${spec.table} WHERE _part IN (${list})`);
    await afterCopy?.();
    await run(`EXCHANGE TABLES ${spec.table} AND ${tmp}`);
    // What landed in the old table between listing its parts and the exchange.
    await run(`INSERT INTO ${spec.table} SELECT * FROM ${tmp} WHERE _part NOT IN (${list})`);
  } finally {
    await run(`SYSTEM START MERGES ${spec.table}`).catch(() => undefined);
  }
  await run(`DROP TABLE IF EXISTS ${tmp} SYNC`);
  return 'rebuilt';
}
