import type { KafkaClient, KafkaConfig } from './client.js';
import { compressionType } from './codecs.js';
import { classifyKafkaError } from './errors.js';
import type { OutMessage } from './messages.js';
import { createPartitioner } from './partitioner.js';

export type Producer = ReturnType<KafkaClient['producer']>;
export type TopicMessages = Array<{ topic: string; messages: OutMessage[] }>;

interface Pending {
  topicMessages: TopicMessages;
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** What the producer bus sends through: in this thread (KafkaSender) or a producer thread (producer-thread.ts). */
export interface Sender {
  /** Resolves once Kafka acknowledged every message (acks=all); rejects with a classified PipelineError. */
  send(topicMessages: TopicMessages, bytes: number): Promise<void>;
  close(): Promise<void>;
}

/** The receivers' producer: idempotent, one request in flight, keys hashed as `bus.kafka.partitioner` says. */
export function receiverProducer(kafka: KafkaClient, cfg: KafkaConfig): Producer {
  return kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: createPartitioner(cfg.partitioner) });
}

/** Sends on a connected kafkajs producer. */
export class KafkaSender implements Sender {
  /** Requests' messages waiting for the send in flight to finish (see send). */
  private readonly queue: Pending[] = [];
  private pumping = false;

  constructor(
    private readonly producer: Producer,
    private readonly cfg: KafkaConfig,
  ) {}

  close(): Promise<void> {
    return this.producer.disconnect();
  }
  /**
   * Group commit: the messages of requests that arrive while a send is out go together in the next one
   * (up to max_message_bytes, the most one send may carry), since the idempotent producer keeps one
   * produce request in flight per broker: one request per HTTP request left Kafka's round trip, not the
   * CPU, the bound. Each request still resolves only once all of its own messages were acknowledged.
   */
  send(topicMessages: TopicMessages, bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topicMessages, bytes, resolve, reject });
      if (!this.pumping) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const taken: Pending[] = [];
        let size = 0;
        while (this.queue.length > 0) {
          const next = this.queue[0] as Pending;
          if (taken.length > 0 && size + next.bytes > this.cfg.max_message_bytes) break;
          taken.push(next);
          size += next.bytes;
          this.queue.shift();
        }
        const merged = new Map<string, OutMessage[]>();
        for (const p of taken) {
          for (const { topic, messages } of p.topicMessages) {
            const list = merged.get(topic);
            if (list) for (const m of messages) list.push(m);
            else merged.set(topic, [...messages]);
          }
        }
        try {
          await this.sendInRequests([...merged].map(([topic, messages]) => ({ topic, messages })));
          for (const p of taken) p.resolve();
        } catch (err) {
          const classified = classifyKafkaError(err, this.cfg.max_message_bytes);
          for (const p of taken) p.reject(classified);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * kafkajs puts every message one send holds for a partition into one record batch, and the broker
   * limits the batch (max.message.bytes), not the message. So a request's messages go out in sends of at
   * most max_message_bytes in total, whatever partitions they land on, one after another.
   */
  private async sendInRequests(topicMessages: TopicMessages): Promise<void> {
    const producer = this.producer;
    const limit = this.cfg.max_message_bytes;
    const compression = compressionType(this.cfg.compression);
    let chunk: Array<{ topic: string; messages: OutMessage[] }> = [];
    let size = 0;
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      await producer.sendBatch({ topicMessages: chunk, acks: -1, timeout: this.cfg.produce_timeout_ms, compression });
      chunk = [];
      size = 0;
    };
    for (const { topic, messages } of topicMessages) {
      for (const m of messages) {
        const bytes = m.value.length + (m.key?.length ?? 0) + 128;
        if (size + bytes > limit) await flush();
        const last = chunk[chunk.length - 1];
        if (last?.topic === topic) last.messages.push(m);
        else chunk.push({ topic, messages: [m] });
        size += bytes;
      }
    }
    await flush();
  }
}
