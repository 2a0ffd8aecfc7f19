import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { StoreConfig } from './config.js';
import { startupError } from '../../component/errors.js';

/**
 * The store is two @clickhouse/client instances over the same data: one for inserts, one for reads.
 * chDB runs one statement at a time per connection, so a search sharing the writer's connection waits
 * behind every insert (measured: ~20 ms idle became ~925 ms median); two connections on one path coexist.
 */
export interface Store {
  readonly kind: StoreConfig['kind'];
  readonly writer: ClickHouseClient;
  readonly reader: ClickHouseClient;
  close(): Promise<void>;
}

export class StoreSetupError extends startupError('STORE_SETUP_FAILED') {
  override name = 'StoreSetupError';
}

interface ChdbConnectionModule {
  createChdbConnection(opts: { path: string }): NonNullable<Parameters<typeof createClient>[0]>['connection'];
}
interface ChdbSession {
  close(): void;
}
interface ChdbModule {
  drainPending(): Promise<void>;
  Session: new (path: string, opts: { connectionArgs: string[] }) => ChdbSession;
}

/** Not a literal, so the project compiles where the optional package is not installed. */
const CHDB = 'chdb';

/** chdb is an optional dependency (~550 MB): load it only when the embedded store is chosen. */
async function loadChdb(): Promise<{ connection: ChdbConnectionModule; root: ChdbModule }> {
  try {
    const connection = (await import(`${CHDB}/connection`)) as ChdbConnectionModule;
    const root = (await import(CHDB)) as ChdbModule;
    return { connection, root };
  } catch (err) {
    throw new StoreSetupError(
      `the embedded store needs the optional package "chdb", which could not be loaded (${(err as Error).message}). ` +
        `Install it with "npm install chdb", or use a ClickHouse server: --store clickhouse --clickhouse-url http://host:8123`,
    );
  }
}

/**
 * Settings every session gets: 64-bit integers quoted in JSON so nanosecond times survive, and a
 * deduplicated insert (a redelivered batch) is not pushed into materialized views either. A filter's
 * `trace_id IN (subquery)` can hold a window's worth of ids (139K for an hour of a 10M-span store):
 * matching that set against every granule's key range cost 410 ms of a 480 ms feedback filter, where
 * reading the column and probing the set costs 80 ms, so only small sets go through the primary key.
 */
const SESSION_SETTINGS = {
  output_format_json_quote_64bit_integers: 1,
  deduplicate_blocks_in_dependent_materialized_views: 1,
  date_time_input_format: 'best_effort',
  use_index_for_in_with_subqueries_max_values: '1000',
} as const;

export async function openStore(cfg: StoreConfig): Promise<Store> {
  if (cfg.kind === 'embedded') {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(cfg.path, { recursive: true });
    const chdb = await loadChdb();
    const make = (settings?: typeof SESSION_SETTINGS): ClickHouseClient =>
      createClient({ connection: chdb.connection.createChdbConnection({ path: cfg.path }), ...(settings ? { clickhouse_settings: settings } : {}) });
    const opened: ClickHouseClient[] = [];
    let engine: ChdbSession | undefined;
    try {
      // The engine starts (and locks the directory) with the first connection, configured by that
      // connection's arguments only: this session exists to pass the cache size, and is kept open
      // beside the clients' connections. A directory that another process holds is reported in words
      // instead of as the engine's stack trace.
      engine = new chdb.root.Session(cfg.path, { connectionArgs: [`--uncompressed_cache_size=${cfg.read_cache_bytes}`] });
      opened.push(make(SESSION_SETTINGS), make());
      await opened[0]?.command({ query: 'SELECT 1' });
      // The chdb connection prefixes every statement with a SET per client setting, and a chDB session
      // keeps what is SET: the reader, which sends no settings of its own, sets them once instead
      // (~0.5 ms of each read). The writer keeps them per statement beside its per-insert settings.
      const readerSettings = { ...SESSION_SETTINGS, use_uncompressed_cache: cfg.read_cache_bytes > 0 ? '1' : '0' };
      for (const [k, v] of Object.entries(readerSettings)) {
        await opened[1]?.command({ query: `SET ${k} = ${/^\d+$/.test(String(v)) ? v : `'${v}'`}` });
      }
    } catch (err) {
      await Promise.allSettled(opened.map((c) => c.close()));
      engine?.close();
      // chDB says only "Failed to create connection" (the lock conflict goes to stderr); the usual cause is
      // a second process on the same directory, so say that and what to do.
      throw new StoreSetupError(
        `cannot open the embedded store in ${cfg.path} (${(err as Error).message.split('\n')[0]}): if another tracehouse process uses this directory, stop it or give this one its own --data-dir`,
        { cause: err },
      );
    }
    const [writer, reader] = opened as [ClickHouseClient, ClickHouseClient];
    const session = engine;
    return {
      kind: 'embedded',
      writer,
      reader,
      async close() {
        await Promise.allSettled([writer.close(), reader.close()]);
        session.close();
        await chdb.root.drainPending();
      },
    };
  }

  const base = { url: cfg.url, username: cfg.username, password: cfg.password, clickhouse_settings: SESSION_SETTINGS };
  const admin = createClient(base);
  try {
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${cfg.database}${cfg.cluster ? ` ON CLUSTER ${cfg.cluster}` : ''}` });
  } catch (err) {
    throw new StoreSetupError(`cannot reach ClickHouse at ${cfg.url}: ${(err as Error).message}`);
  } finally {
    await admin.close();
  }
  const writer = createClient({ ...base, database: cfg.database });
  const reader = createClient({ ...base, database: cfg.database });
  return {
    kind: 'clickhouse',
    writer,
    reader,
    async close() {
      await Promise.allSettled([writer.close(), reader.close()]);
    },
  };
}
