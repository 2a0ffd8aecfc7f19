/** The producer thread's entry (see producer-thread.ts): one kafkajs producer, sending what the main thread posts. */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { PipelineError } from '../../component/errors.js';
import { createKafka, type KafkaConfig } from './client.js';
import type { FromThread, ToThread } from './producer-thread.js';
import { KafkaSender, receiverProducer } from './sender.js';

const { cfg, logLevel } = workerData as { cfg: KafkaConfig; logLevel: string };
const port = parentPort;
if (!port) throw new Error('producer-thread-main runs as a worker thread');
const post = (m: FromThread): void => port.postMessage(m);
const log = pino({ level: logLevel }, pino.destination(2));

const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

async function main(): Promise<void> {
  const producer = receiverProducer(createKafka(cfg, log, 'receiver'), cfg);
  try {
    await producer.connect();
  } catch (err) {
    post({ type: 'failed', message: (err as Error).message });
    return;
  }
  const sender = new KafkaSender(producer, cfg);
  let out = 0;
  let closing = false;
  const finish = async (): Promise<void> => {
    if (!closing || out > 0) return;
    await sender.close().catch(() => undefined);
    post({ type: 'closed' });
    port?.close();
  };
  port?.on('message', (m: ToThread) => {
    if (m.type === 'close') {
      closing = true;
      void finish();
      return;
    }
    // Structured clone delivers Buffers as plain Uint8Arrays: kafkajs wants Buffers.
    for (const t of m.topicMessages) for (const msg of t.messages) msg.value = asBuffer(msg.value);
    out++;
    sender
      .send(m.topicMessages, m.bytes)
      .then(
        () => post({ type: 'acked', id: m.id }),
        (err: unknown) => {
          const e = err instanceof PipelineError ? err : new PipelineError('BUS_UNAVAILABLE', String(err));
          post({ type: 'error', id: m.id, code: e.code, message: e.message, retryAfterSeconds: e.retryAfterSeconds });
        },
      )
      .finally(() => {
        out--;
        void finish();
      });
  });
  post({ type: 'ready' });
}

void main();
