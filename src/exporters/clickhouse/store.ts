import type { ClickHouseClient } from '@clickhouse/client';
import { Once, settleBy, type Component, type Deadline, type Factory, type ReadyCheck } from '../../component/component.js';
import type { Telemetry } from '../../component/telemetry/index.js';
import { openStore, type Store } from './client.js';
import type { StoreConfig } from './config.js';
import { applyRetention, migrate } from './migrate.js';

/**
 * The store as a component: `start()` opens the two connections (writes and reads) and, unless a
 * separate migrate job does it, brings the schema and retention up to date. Stages that read or write
 * are built after it has started and take its clients.
 */
export class ClickHouseStore implements Component, ReadyCheck {
  private store: Store | null = null;
  private readonly stopping = new Once();

  constructor(
    private readonly cfg: StoreConfig,
    private readonly telemetry: Telemetry,
  ) {}

  get kind(): StoreConfig['kind'] {
    return this.cfg.kind;
  }

  /** The embedded store's data directory (the engine's files and the write stage's file journal). */
  get dataDir(): string | undefined {
    return this.cfg.kind === 'embedded' ? this.cfg.path : undefined;
  }

  /** The connection inserts go through. */
  get writer(): ClickHouseClient {
    return this.open().writer;
  }

  /** The connection searches go through, so they never wait behind an insert. */
  get reader(): ClickHouseClient {
    return this.open().reader;
  }

  private open(): Store {
    if (!this.store) throw new Error('the store is not started');
    return this.store;
  }

  async start(): Promise<void> {
    const store = await openStore(this.cfg);
    this.store = store;
    if (!this.cfg.migrate_on_start) return;
    const m = await migrate(store.writer, this.cfg.cluster);
    if (m.applied.length) this.telemetry.log.info({ applied: m.applied }, 'schema migrated');
    await applyRetention(store.writer, this.cfg.retention_days, this.cfg.cluster);
  }

  /** The store answers a trivial query on the read connection. */
  async ping(): Promise<boolean> {
    const store = this.store;
    if (!store) return false;
    await (await store.reader.query({ query: 'SELECT 1', format: 'JSONEachRow' })).json();
    return true;
  }

  ready(): Promise<boolean> {
    return this.ping();
  }

  shutdown(deadline: Deadline): Promise<void> {
    return this.stopping.run(async () => {
      const store = this.store;
      this.store = null;
      if (store) await settleBy(store.close(), deadline);
    });
  }
}

export const clickhouseStoreFactory: Factory<StoreConfig, { telemetry: Telemetry }, ClickHouseStore> = {
  type: 'store',
  create: (cfg, { telemetry }) => new ClickHouseStore(cfg, telemetry),
};
