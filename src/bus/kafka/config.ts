import { z } from 'zod';

/** The Kafka bus: brokers, topics and the limits receivers and writers share (`bus.kafka`). */
export const kafkaConfigSchema = z
  .object({
    brokers: z
      .array(z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port'))
      .min(1)
      .default(['localhost:9092']),
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
    max_message_bytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
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
    max_inflight_bytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(256 * 1024 * 1024),
    writer_group: z.string().min(1).default('tracehouse-writer'),
    evaluator_group: z.string().min(1).default('tracehouse-evaluator'),
  })
  .strict();

export type KafkaConfig = z.infer<typeof kafkaConfigSchema>;
