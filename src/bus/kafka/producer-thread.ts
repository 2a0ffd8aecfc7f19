/**
 * The receiver's Kafka producer in a worker thread. kafkajs' record encoding and CRC32C (JavaScript) cost
 * more CPU than everything else a receiver does per span (profiled: about 60% of its CPU), so on the main
 * thread they and the HTTP/gRPC accept loop share one core. Here the main thread decodes, regroups and
 * answers, and this thread produces: two cores. Messages are copied across (structured clone); the byte
 * budget stays on the main thread, which holds each request's bytes until this thread says Kafka acked.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { pipelineError, type PipelineErrorCode } from '../../component/errors.js';
import type { KafkaConfig } from './client.js';
import type { Sender, TopicMessages } from './sender.js';

/** Main thread → producer thread. */
export type ToThread = { type: 'send'; id: number; topicMessages: TopicMessages; bytes: number } | { type: 'close' };
/** Producer thread → main thread. */
export type FromThread =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'acked'; id: number }
  | { type: 'error'; id: number; code: PipelineErrorCode; message: string; retryAfterSeconds?: number | undefined }
  | { type: 'closed' };

const ENTRY = new URL('./producer-thread-main.js', import.meta.url);

/** The thread's entry is compiled JavaScript: running from the TypeScript sources (tests), there is none. */
export const producerThreadAvailable = (): boolean => existsSync(fileURLToPath(ENTRY));

export class ThreadSender implements Sender {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: unknown) => void }>();
  private gone: string | null = null;
  private closed: (() => void) | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly log: Logger,
  ) {
    worker.on('message', (m: FromThread) => this.onMessage(m));
    worker.on('error', (err) => this.fail(`the Kafka producer thread failed: ${err.message}`));
    worker.on('exit', (code) => {
      this.fail(`the Kafka producer thread exited (${code})`);
      this.closed?.();
    });
  }

  /** Starts the thread and waits until its producer is connected. */
  static async start(cfg: KafkaConfig, log: Logger): Promise<ThreadSender> {
    const worker = new Worker(ENTRY, { workerData: { cfg, logLevel: log.level } });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromThread): void => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'failed') reject(new Error(m.message));
        else return;
        worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the Kafka producer thread exited (${code}) before connecting`)));
    });
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    return new ThreadSender(worker, log);
  }

  send(topicMessages: TopicMessages, bytes: number): Promise<void> {
    if (this.gone) return Promise.reject(pipelineError('BUS_UNAVAILABLE', this.gone, { retryAfterSeconds: 5 }));
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'send', id, topicMessages, bytes } satisfies ToThread);
    });
  }

  private onMessage(m: FromThread): void {
    if (m.type !== 'acked' && m.type !== 'error') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'acked') p.resolve();
    else p.reject(pipelineError(m.code, m.message, m.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: m.retryAfterSeconds }));
  }

  private fail(message: string): void {
    if (this.gone) return;
    this.gone = message;
    this.log.error(message);
    for (const p of this.pending.values()) p.reject(pipelineError('BUS_UNAVAILABLE', message, { retryAfterSeconds: 5 }));
    this.pending.clear();
  }

  /** Sends still out finish first (the thread disconnects its producer after them); the caller bounds the wait. */
  close(): Promise<void> {
    if (this.gone) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.closed = resolve;
      this.worker.postMessage({ type: 'close' } satisfies ToThread);
    });
  }

  /** For a shutdown past its deadline. */
  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}
