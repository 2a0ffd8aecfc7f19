import type { ClickHouseClient } from '@clickhouse/client';
import { MIGRATIONS, RETENTION_TABLES, type Migration } from './schema.js';
import { insertRows } from './insert.js';
import { rebuildTable } from './rebuild.js';

export interface MigrationResult {
  applied: number[];
  current: number;
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order. Each migration's statements
 * and table rebuilds are idempotent, so a crash between a step and its record is repaired by the next run.
 */
export async function migrate(client: ClickHouseClient, cluster = '', migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  await client.command({
    query: forCluster(
      `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime DEFAULT now())
            ENGINE = ReplacingMergeTree ORDER BY version`,
      cluster,
    ),
  });
  const rs = await client.query({ query: 'SELECT DISTINCT version FROM schema_migrations', format: 'JSONEachRow' });
  const done = new Set((await rs.json<{ version: number | string }>()).map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    for (const statement of m.statements) await client.command({ query: forCluster(statement, cluster) });
    for (const spec of m.rebuild ?? []) await rebuildTable(client, cluster, spec);
    await insertRows(client, 'schema_migrations', [{ version: m.version, name: m.name }]);
    applied.push(m.version);
  }
  return { applied, current: Math.max(0, ...migrations.map((m) => m.version)) };
}

/**
 * The DDL for a cluster: every table created ON CLUSTER with the Replicated variant of its engine (the
 * engine arguments default to the server's `default_replica_path` / `default_replica_name`, which use
 * the `{shard}` and `{replica}` macros), and every ALTER and DROP ON CLUSTER. A backfill (INSERT … SELECT)
 * runs on the one server the migration is connected to: replication copies its rows. With no cluster the
 * statement is unchanged. The cluster name is validated by the config schema as a plain identifier.
 */
export function forCluster(statement: string, cluster: string): string {
  if (!cluster) return statement;
  return statement
    .replace(/^(\s*(?:CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS|DROP (?:TABLE|VIEW) IF EXISTS|ALTER TABLE) \w+)/, `$1 ON CLUSTER ${cluster}`)
    .replace(/ENGINE = (Replacing)?MergeTree\b/, (_m, replacing: string | undefined) => `ENGINE = Replicated${replacing ?? ''}MergeTree`);
}

/**
 * Sets the TTL of the time-series tables to `days` (0 removes it). Only tables whose TTL differs are
 * altered, and existing parts are not rewritten (materialize_ttl_after_modify = 0): old data expires as
 * parts merge or their partition ages out, instead of a full rewrite at start-up.
 */
export async function applyRetention(client: ClickHouseClient, days: number, cluster = ''): Promise<string[]> {
  const rs = await client.query({
    query: 'SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() AND name IN {names:Array(String)}',
    query_params: { names: RETENTION_TABLES.map((t) => t.table) },
    format: 'JSONEachRow',
  });
  const engines = new Map((await rs.json<{ name: string; engine_full: string }>()).map((r) => [r.name, r.engine_full]));
  const changed: string[] = [];
  for (const { table, column } of RETENTION_TABLES) {
    const current = /TTL .*toIntervalDay\((\d+)\)/.exec(engines.get(table) ?? '');
    const currentDays = current ? Number(current[1]) : 0;
    if (currentDays === days) continue;
    const on = cluster ? ` ON CLUSTER ${cluster}` : '';
    const query =
      days === 0 ? `ALTER TABLE ${table}${on} REMOVE TTL` : `ALTER TABLE ${table}${on} MODIFY TTL toDateTime(${column}) + toIntervalDay(${Math.trunc(days)})`;
    await client.command({ query, clickhouse_settings: { materialize_ttl_after_modify: 0 } });
    changed.push(table);
  }
  return changed;
}
