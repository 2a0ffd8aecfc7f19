import type { Config } from '../config/schema.js';
import type { Telemetry } from '../component/telemetry/index.js';
import { telemetryServerFactory, type Readiness, type TelemetryServer } from '../component/telemetry/ops.js';
import { clickhouseStoreFactory, type ClickHouseStore } from '../exporters/clickhouse/store.js';
import { storeWriterFactory, type StoreWriter } from '../exporters/clickhouse/writer.js';
import { inlineBusFactory, type InlineBus } from '../bus/inline/bus.js';
import { kafkaEvaluatorSourceFactory, kafkaProducerFactory, kafkaWriterFactory } from '../bus/kafka/factory.js';
import type { KafkaEvaluatorSource, SpanPosition } from '../bus/kafka/evaluator-source.js';
import type { KafkaProducerBus } from '../bus/kafka/producer-bus.js';
import type { KafkaWriter } from '../bus/kafka/writer.js';
import { evaluatorFactory, type EvaluatorStage } from '../evaluate/factory.js';
import { apiFactory } from '../api/factory.js';
import type { ApiServer } from '../api/server.js';
import { otlpReceiverFactory, type OtlpReceiver } from '../receivers/otlp/receiver.js';
import type { NodeTable } from './graph.js';
import { authFactory, type Authenticator } from '../auth/factory.js';
import { readTls } from '../component/net.js';

/** Every component a process can run, by node id. */
export interface Nodes {
  store: ClickHouseStore;
  storeWriter: StoreWriter;
  kafkaWriter: KafkaWriter;
  evaluator: EvaluatorStage<SpanPosition>;
  kafkaEvaluatorSource: KafkaEvaluatorSource;
  inlineBus: InlineBus;
  kafkaProducer: KafkaProducerBus;
  api: ApiServer;
  otlpReceiver: OtlpReceiver;
  telemetry: TelemetryServer;
  auth: Authenticator;
}
export type NodeId = keyof Nodes;

/** What the node table builds from besides other nodes. */
export interface Environment {
  config: Readonly<Config>;
  telemetry: Telemetry;
  readiness: Readiness;
  /** Where relative custom scorer modules are found. */
  baseDir: string;
}

/**
 * The factory table: for each node, which nodes it takes and which stage factory builds it from which
 * part of the config. The only place that knows how stages connect; the order they start in follows
 * from `needs` and `uses` (store, writer, evaluator, bus, API, receivers).
 */
export function nodeTable(env: Environment): NodeTable<Nodes> {
  const { config, telemetry, readiness } = env;
  const kafka = config.bus.kafka;
  const tls = (): ReturnType<typeof readTls> => readTls(config.tls);
  return {
    auth: {
      needs: [],
      uses: ['store'],
      create: (g) => authFactory.create(config.auth, { store: g.find('store'), listenHosts: listenHosts(config), telemetry }),
    },
    store: { needs: [], create: () => clickhouseStoreFactory.create(config.store, { telemetry }) },
    storeWriter: { needs: ['store'], create: (g) => storeWriterFactory.create(config.writer, { store: g.get('store'), telemetry }) },
    kafkaWriter: {
      needs: ['storeWriter'],
      create: (g) =>
        kafkaWriterFactory.create(
          { kafka, batchMaxItems: config.writer.batch_max_spans, batchMaxBytes: config.writer.batch_max_bytes },
          { sink: g.get('storeWriter'), telemetry },
        ),
    },
    evaluator: {
      needs: ['store'],
      create: (g) => evaluatorFactory<SpanPosition>().create(config.evaluator, { store: g.get('store'), telemetry, baseDir: env.baseDir }),
    },
    kafkaEvaluatorSource: {
      needs: ['evaluator'],
      create: (g) => kafkaEvaluatorSourceFactory.create(kafka, { evaluator: g.get('evaluator').evaluator, telemetry }),
    },
    inlineBus: {
      needs: ['storeWriter'],
      uses: ['evaluator'],
      create: (g) => {
        const evaluator = g.find('evaluator');
        return inlineBusFactory.create(
          {
            maxItems: config.writer.batch_max_spans,
            maxBytes: config.writer.batch_max_bytes,
            maxWaitMs: config.writer.batch_max_wait_ms,
            maxPendingItems: config.writer.batch_max_spans * 10,
          },
          { writer: g.get('storeWriter'), observers: evaluator ? [evaluator] : [] },
        );
      },
    },
    kafkaProducer: { needs: [], create: () => kafkaProducerFactory.create(kafka, { telemetry }) },
    api: {
      needs: ['store', 'auth'],
      uses: ['inlineBus', 'kafkaProducer', 'kafkaWriter', 'evaluator'],
      create: (g) => {
        // MLflow's client sends spans to the API port: they go to this process's bus, if it has one.
        const publisher = g.find('inlineBus') ?? g.find('kafkaProducer');
        return apiFactory.create(config.api, {
          store: g.get('store'),
          readiness,
          telemetry,
          auth: g.get('auth'),
          tls: tls(),
          ...(publisher ? { publisher } : {}),
        });
      },
    },
    otlpReceiver: {
      needs: ['auth'],
      uses: ['inlineBus', 'kafkaProducer', 'api'],
      create: (g) => {
        const next = g.find('inlineBus') ?? g.find('kafkaProducer');
        if (!next) throw new Error('the OTLP receiver needs a bus (inlineBus or kafkaProducer)');
        return otlpReceiverFactory.create(config.receivers, {
          next,
          telemetry,
          retentionDays: config.store.retention_days,
          auth: g.get('auth'),
          tls: tls(),
        });
      },
    },
    telemetry: {
      needs: [],
      uses: ['store', 'storeWriter', 'kafkaWriter', 'evaluator', 'kafkaEvaluatorSource', 'kafkaProducer', 'otlpReceiver'],
      create: () => telemetryServerFactory.create(config.telemetry, { telemetry, readiness }),
    },
  };
}

/** The addresses of the listeners that carry data (API, OTLP): what decides whether keys are on. */
export function listenHosts(config: Readonly<Config>): string[] {
  return [
    ...(config.api.enabled ? [config.api.host] : []),
    ...(config.receivers.grpc.enabled ? [config.receivers.grpc.host] : []),
    ...(config.receivers.http.enabled ? [config.receivers.http.host] : []),
  ];
}
