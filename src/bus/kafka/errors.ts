import { PipelineError, pipelineError } from '../../component/errors.js';

/**
 * Classifies an error from a Kafka produce, where it is first seen. A message over the topic's size limit
 * will never fit (permanent); everything else — brokers down, leaders moving, timeouts — is retryable, so
 * OTLP clients keep their data and send it again.
 */
export function classifyKafkaError(err: unknown, maxMessageBytes: number): PipelineError {
  if (err instanceof PipelineError) return err;
  // kafkajs' name for the broker's refusal, then librdkafka's (its own check and the broker's).
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'MESSAGE_TOO_LARGE' || type === 'ERR_MSG_SIZE_TOO_LARGE') {
    return pipelineError(
      'MESSAGE_TOO_LARGE',
      `Kafka refused a message as too large: raise the topic's max.message.bytes to bus.kafka.max_message_bytes (${maxMessageBytes})`,
      { cause: err },
    );
  }
  return pipelineError('BUS_UNAVAILABLE', `Kafka unavailable: ${err instanceof Error ? err.message : String(err)}`, { retryAfterSeconds: 5, cause: err });
}
