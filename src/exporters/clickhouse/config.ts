import { z } from 'zod';

/** `store`: where the ClickHouse tables live, embedded (chDB) or on a server. */
export const storeConfigSchema = z
  .object({
    kind: z.enum(['embedded', 'clickhouse']).default('embedded'),
    /** chDB data directory (embedded store). */
    path: z.string().min(1).default('.data/chdb'),
    /** ClickHouse server (clickhouse store). */
    url: z.url().default('http://localhost:8123'),
    username: z.string().default('default'),
    password: z.string().default(''),
    database: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier')
      .default('tracehouse'),
    /** ClickHouse cluster name: when set, migrations create Replicated tables ON CLUSTER. */
    cluster: z
      .string()
      .regex(/^([A-Za-z_][A-Za-z0-9_]*)?$/, 'must be a cluster name from the server config (letters, digits, _), or empty')
      .default(''),
    /** Apply migrations and retention at start-up; turn off where a separate `tracehouse migrate` job does it. */
    migrate_on_start: z.boolean().default(true),
    /** Days to keep spans, traces and events; 0 keeps them forever. */
    retention_days: z.number().int().min(0).max(36500).default(30),
    /**
     * Embedded store: bytes of decompressed column blocks the engine keeps for reads (its uncompressed
     * cache); 0 turns it off. A search page or a trace by id reads a few rows from many blocks, and
     * decompressing them is much of the read: with 128 MiB, search pages measured 10–25% faster at p95
     * (bench/README.md).
     */
    read_cache_bytes: z
      .number()
      .int()
      .min(0)
      .max(64 * 1024 * 1024 * 1024)
      .default(128 * 1024 * 1024),
  })
  .strict();

/** `writer`: how batches become inserts. */
export const writerConfigSchema = z
  .object({
    /** A write batch holds at most this many spans. */
    batch_max_spans: z.number().int().min(1).max(1_000_000).default(10_000),
    /**
     * How long an idle writer waits for more spans before writing. Requests that arrive while a write
     * runs join the next batch, so batches grow with load even at 0 (group commit).
     */
    batch_max_wait_ms: z.number().int().min(0).max(60_000).default(0),
    /**
     * A merged write batch holds requests of at most this many decompressed bytes in total (a single
     * larger request goes alone); its rows go to the store in inserts of at most this many bytes each.
     */
    batch_max_bytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(512 * 1024 * 1024)
      .default(16 * 1024 * 1024),
    /** Payloads longer than this are cut in trace previews (MLflow keeps 1000). */
    preview_chars: z.number().int().min(16).max(100_000).default(1000),
    /**
     * How rows reach the store (not a flag: for benchmarks and diagnosis). `rowbinary`, the embedded
     * store's default: RowBinary read by the engine from the file journal (`<data dir>/write-journal`), ~2.5×
     * cheaper to parse than JSON. `jsoneachrow`, the only format for a ClickHouse server: JSON lines,
     * journaled in the `write_journal` table.
     */
    insert_format: z.enum(['rowbinary', 'jsoneachrow']).optional(),
    /** Count what each convention's spans lacked (tracehouse_ingest_* in /metrics); cheap enough to leave on. */
    ingest_report: z.boolean().default(true),
  })
  .strict();

export type StoreConfig = z.infer<typeof storeConfigSchema>;
export type WriterConfig = z.infer<typeof writerConfigSchema>;
