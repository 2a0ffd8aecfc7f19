import { z } from 'zod';
import { DEFAULT_PROJECT, PROJECT_RE, PROJECT_RULE } from '../../model/project.js';

const projectName = z.string().regex(PROJECT_RE, `must be ${PROJECT_RULE}`);

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
     * How receivers compress what they produce. `none` by default, as in the Collector's Kafka exporter:
     * measured here, gzip halved the receiver's throughput and cost the single-process Kafka path a fifth of
     * its rate. Consumers read every codec whatever this says.
     */
    compression: z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']).default('none'),
    /**
     * How a trace id picks its partition; every producer on the topics must agree, or one trace's spans
     * reach different writers and evaluators. `sarama_compat` is the Collector Kafka exporter's default
     * hasher; `murmur2` the Java client's (and tracehouse's before this setting existed).
     */
    partitioner: z.enum(['sarama_compat', 'murmur2']).default('sarama_compat'),
    /**
     * The project of data on each topic whose message has no `tracehouse-project` header (a Collector's
     * exporter sends none unless told to) and whose resource has no `tracehouse.project` attribute.
     */
    default_project: z
      .object({ spans: projectName.default(DEFAULT_PROJECT), logs: projectName.default(DEFAULT_PROJECT) })
      .strict()
      .prefault({}),
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
    /**
     * Receivers produce from a worker thread (kafkajs' encoding then runs beside the accept loop, on a
     * second core) rather than the main thread. Off by default: on the 2-core bench machine, shared with
     * other load, it cost more CPU per span (structured-clone copies, a second isolate) and ~50 MiB RSS
     * for no throughput (bench/receiver-kafka.bench.ts --producer-thread).
     */
    producer_thread: z.boolean().default(false),
    /**
     * The receivers' Kafka client. `librdkafka` (the optional @confluentinc/kafka-javascript package) does
     * the record encoding on native threads: measured, 2.6× kafkajs' sends per second at a third of the CPU
     * (bench/kafka-client.bench.ts). Writers and evaluators consume with kafkajs either way.
     */
    client: z.enum(['kafkajs', 'librdkafka']).default('kafkajs'),
    writer_group: z.string().min(1).default('tracehouse-writer'),
    evaluator_group: z.string().min(1).default('tracehouse-evaluator'),
  })
  .strict();

export type KafkaConfig = z.infer<typeof kafkaConfigSchema>;
