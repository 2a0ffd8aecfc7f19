import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const run = promisify(execFile);
export const KAFKA_SCRIPT = fileURLToPath(new URL('../../deploy/local/kafka.sh', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap address of a real Kafka broker, or '' when none could be had (and REQUIRE_KAFKA is unset). */
    kafkaBrokers: string;
  }
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/** A broker started by deploy/local/kafka.sh: its address, data directory, process and how to stop it. */
export interface LocalKafka {
  brokers: string;
  dir: string;
  /** The broker's process id (from the script's pid file: a restart changes it). */
  pid: () => number;
  stop: () => Promise<void>;
}

/**
 * Starts a broker with the project's script; returns its address and how to stop it. Tried twice: a port
 * found free can be taken by another process before the broker binds it.
 */
export async function startLocalKafka(attempts = 2): Promise<LocalKafka> {
  for (let i = 1; ; i++) {
    try {
      return await startLocalKafkaOnce();
    } catch (err) {
      if (i >= attempts) throw err;
    }
  }
}

async function startLocalKafkaOnce(): Promise<LocalKafka> {
  const dir = mkdtempSync(join(tmpdir(), 'tracehouse-kafka-'));
  const port = await freePort();
  const { stdout } = await run('bash', [KAFKA_SCRIPT, 'start', '--port', String(port), '--dir', dir], { timeout: 240_000 }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const line = stdout.trim().split('\n').pop() ?? '';
  const brokers = line.replace(/^KAFKA_BROKERS=/, '');
  return {
    brokers,
    dir,
    pid: () => Number(readFileSync(join(dir, 'kafka.pid'), 'utf8').trim()),
    stop: async () => {
      await run('bash', [KAFKA_SCRIPT, 'stop', '--dir', dir], { timeout: 60_000 }).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/**
 * A real broker for the Kafka tests, found in this order: KAFKA_BROKERS from the environment; a
 * testcontainers broker when a docker engine answers; else a local broker started with
 * deploy/local/kafka.sh (Kafka's jars from Maven Central and the machine's Java). With REQUIRE_KAFKA=1
 * (as .ci/run sets) failing to get one fails the run instead of skipping the Kafka tests.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const required = process.env.REQUIRE_KAFKA === '1';
  if (process.env.KAFKA_BROKERS) {
    project.provide('kafkaBrokers', process.env.KAFKA_BROKERS);
    return async () => undefined;
  }
  const errors: string[] = [];
  if (await dockerAnswers()) {
    try {
      const { KafkaContainer } = await import('@testcontainers/kafka');
      const container = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start();
      project.provide('kafkaBrokers', `${container.getHost()}:${container.getMappedPort(9093)}`);
      return async () => {
        await container.stop();
      };
    } catch (err) {
      errors.push(`testcontainers: ${(err as Error).message}`);
    }
  }
  try {
    const local = await startLocalKafka();
    project.provide('kafkaBrokers', local.brokers);
    return local.stop;
  } catch (err) {
    errors.push(`deploy/local/kafka.sh: ${(err as { stderr?: string }).stderr?.slice(-2000) ?? (err as Error).message}`);
  }
  const message = `no Kafka broker for the Kafka tests:\n  ${errors.join('\n  ')}\nSet KAFKA_BROKERS, start a docker engine, or install Java 17+ and Maven.`;
  if (required) throw new Error(`${message}\n(REQUIRE_KAFKA=1: failing instead of skipping)`);
  process.stderr.write(`\n*** ${message}\n*** The Kafka tests will be SKIPPED.\n\n`);
  project.provide('kafkaBrokers', '');
  return async () => undefined;
}
