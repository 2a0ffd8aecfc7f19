import { z } from 'zod';
import { evaluatorConfigSchema } from '../evaluate/config.js';

const port = z.number().int().min(0).max(65535);
const host = z.string().min(1);

const kafkaSchema = z
  .object({
    brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port')).min(1).default(['localhost:9092']),
    client_id: z.string().min(1).default('tracehouse'),
    topics: z
      .object({
        spans: z.string().min(1).default('tracehouse.spans'),
        logs: z.string().min(1).default('tracehouse.logs'),
        dead_letter: z.string().min(1).default('tracehouse.dead-letter'),
      })
      .strict()
      .prefault({}),
    /** Used when a topic is created because it is missing. */
    partitions: z.number().int().min(1).max(10_000).default(6),
    replication_factor: z.number().int().min(1).max(16).default(1),
    retention_hours: z.number().int().min(1).default(72),
    /** Largest message on the topics; a trace over it is split, a single span over it is refused. */
    max_message_bytes: z.number().int().min(64 * 1024).max(64 * 1024 * 1024).default(1024 * 1024),
    /**
     * `none` by default, as in the Collector's Kafka exporter: measured here, gzip halved the receiver's
     * throughput and cost the single-process Kafka path a fifth of its rate; use gzip to save broker disk
     * and network when CPU is plentiful.
     */
    compression: z.enum(['gzip', 'none']).default('none'),
    /** TLS to the brokers (system CAs). */
    ssl: z.boolean().default(false),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        password: z.string().min(1),
      })
      .strict()
      .optional(),
    /** How long a receiver waits for Kafka to acknowledge before answering 503. */
    produce_timeout_ms: z.number().int().min(100).default(10_000),
    /** Request bytes held while waiting for Kafka, at most; more are refused with 503 + Retry-After. */
    max_inflight_bytes: z.number().int().min(1024 * 1024).default(256 * 1024 * 1024),
    writer_group: z.string().min(1).default('tracehouse-writer'),
    evaluator_group: z.string().min(1).default('tracehouse-evaluator'),
  })
  .strict();

/**
 * The whole configuration. Every object is strict (unknown keys are errors, so a typo never silently
 * falls back to a default) and every field has a default, so an empty file is a working embedded setup.
 */
export const configSchema = z
  .object({
    bus: z
      .object({
        /** `inline`: one process, writes coalesced in memory. `kafka`: receivers produce, writers consume. */
        kind: z.enum(['inline', 'kafka']).default('inline'),
        kafka: kafkaSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    store: z
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
      })
      .strict()
      .prefault({}),
    receivers: z
      .object({
        grpc: z
          .object({ enabled: z.boolean().default(true), host: host.default('0.0.0.0'), port: port.default(4317) })
          .strict()
          .prefault({}),
        http: z
          .object({ enabled: z.boolean().default(true), host: host.default('0.0.0.0'), port: port.default(4318) })
          .strict()
          .prefault({}),
        /** Largest accepted request body, compressed or decompressed, for both transports. */
        max_body_bytes: z.number().int().min(1024).default(16 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    writer: z
      .object({
        /** A write batch holds at most this many spans. */
        batch_max_spans: z.number().int().min(1).max(1_000_000).default(10_000),
        /**
         * How long an idle writer waits for more spans before writing. Requests that arrive while a write
         * runs join the next batch, so batches grow with load even at 0 (group commit).
         */
        batch_max_wait_ms: z.number().int().min(0).max(60_000).default(0),
        /** Payloads longer than this are cut in trace previews (MLflow keeps 1000). */
        preview_chars: z.number().int().min(16).max(100_000).default(1000),
      })
      .strict()
      .prefault({}),
    api: z
      .object({ enabled: z.boolean().default(true), host: host.default('0.0.0.0'), port: port.default(8080) })
      .strict()
      .prefault({}),
    /** Health and metrics for roles that do not serve the API (receiver, writer, evaluator). */
    telemetry: z.object({ host: host.default('0.0.0.0'), port: port.default(8888) }).strict().prefault({}),
    evaluator: evaluatorConfigSchema.prefault({}),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
/** What a user may write: every field optional. */
export type ConfigInput = z.input<typeof configSchema>;
