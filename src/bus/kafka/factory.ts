import type { Factory } from '../../component/component.js';
import type { Telemetry } from '../../component/telemetry/index.js';
import type { Evaluator } from '../../evaluate/evaluator.js';
import type { KafkaConfig } from './config.js';
import { KafkaEvaluatorSource, type SpanPosition } from './evaluator-source.js';
import { KafkaProducerBus } from './producer-bus.js';
import { KafkaWriter, type BatchSink, type KafkaWriterOptions } from './writer.js';

/** The receiver side: publishes each request to the spans and logs topics. */
export const kafkaProducerFactory: Factory<KafkaConfig, { telemetry: Telemetry }, KafkaProducerBus> = {
  type: 'kafka-producer',
  create: (cfg, { telemetry }) => new KafkaProducerBus(cfg, telemetry.metrics, telemetry.log),
};

/** The writer side: a consumer group that hands decoded batches to the store writer. */
export const kafkaWriterFactory: Factory<{ kafka: KafkaConfig } & KafkaWriterOptions, { sink: BatchSink; telemetry: Telemetry }, KafkaWriter> = {
  type: 'kafka-writer',
  create: ({ kafka, ...opts }, { sink, telemetry }) => new KafkaWriter(kafka, sink, opts, telemetry.metrics, telemetry.log),
};

/** The evaluator's own consumer group on the spans topic. */
export const kafkaEvaluatorSourceFactory: Factory<KafkaConfig, { evaluator: Evaluator<SpanPosition>; telemetry: Telemetry }, KafkaEvaluatorSource> = {
  type: 'kafka-evaluator-source',
  create: (cfg, { evaluator, telemetry }) => new KafkaEvaluatorSource(cfg, evaluator, telemetry.metrics, telemetry.log),
};
