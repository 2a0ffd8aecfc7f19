/**
 * The Kafka path against the inline path, in one run, on the embedded store:
 *
 *   npx tsx bench/kafka.bench.ts [--requests 200] [--spans-per-request 100] [--concurrency 4]
 *                                [--backlog 1000000] [--brokers host:port] [--compression none|gzip] [--no-build]
 *
 * 1. inline: `tracehouse start` (inline bus): spans/s acknowledged (= written: the inline bus acks after
 *    the insert), peak RSS.
 * 2. kafka, one process: `tracehouse start --bus kafka`: spans/s acknowledged by the receiver (Kafka acks)
 *    and end-to-end spans/s until the writer has inserted them all; peak RSS. Reported as a fraction of (1).
 * 3. separate roles: `tracehouse receiver` alone (producer throughput, peak RSS), sending a backlog of
 *    `--backlog` spans (the workload's distinct spans repeated), then `tracehouse writer` started on that
 *    backlog: catch-up spans/s until everything is inserted, against the steady inline rate; writer peak RSS.
 *
 * The broker is KAFKA_BROKERS / --brokers, else one started with deploy/local/kafka.sh.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { startLocalKafka } from '../test/setup/kafka.js';
import { ensureBuilt, cpuSeconds, freePort, metric, peakRss, sendAll, startProc, waitFor, type Proc } from './lib/harness.js';
import { fmt, machineLine, mb, percentile } from './lib/stats.js';
import { buildWorkload, warmupOf, type Workload } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    'spans-per-request': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '4' },
    'warmup-requests': { type: 'string', default: '40' },
    backlog: { type: 'string', default: '1000000' },
    brokers: { type: 'string' },
    compression: { type: 'string', default: 'none' },
    'no-build': { type: 'boolean', default: false },
  },
});
const concurrency = Number(values.concurrency);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const MiB = 2 ** 20;

function configFile(dir: string, brokers: string, id: string): string {
  const file = join(dir, `${id}.yaml`);
  writeFileSync(
    file,
    stringify({
      bus: {
        kind: 'kafka',
        kafka: {
          brokers: brokers.split(','),
          topics: { spans: `bench-${id}.spans`, logs: `bench-${id}.logs`, dead_letter: `bench-${id}.dlq` },
          writer_group: `bench-${id}-writer`,
          evaluator_group: `bench-${id}-evaluator`,
          partitions: 6,
          compression: values.compression,
        },
      },
      log_level: 'warn',
    }),
  );
  return file;
}

async function main(): Promise<void> {
  ensureBuilt(!values['no-build']);
  const local = values.brokers || process.env.KAFKA_BROKERS ? null : await startLocalKafka();
  const brokers = values.brokers ?? process.env.KAFKA_BROKERS ?? (local?.brokers as string);
  const dir = mkdtempSync(join(tmpdir(), 'tracehouse-kbench-'));
  const procs: Proc[] = [];
  try {
    const workload: Workload = {
      seed: 11,
      endMs: Date.now() - 60_000,
      windowMs: 10 * 60_000,
      requests: Number(values.requests),
      spansPerRequest: Number(values['spans-per-request']),
      textScale: 1,
    };
    const { bodies, spans } = buildWorkload(workload);
    const warm = buildWorkload(warmupOf(workload, Number(values['warmup-requests'])));
    const bytes = bodies.reduce((n, b) => n + b.length, 0);
    log(`workload: ${fmt(spans)} spans in ${bodies.length} requests (${fmt(bytes / spans)} B/span), broker ${brokers}`);

    // 1. inline
    const ports = async (): Promise<string[]> => ['--http-port', String(await freePort()), '--grpc-port', String(await freePort())];
    const apiPort = await freePort();
    const inlinePorts = await ports();
    const inline = await startProc(
      ['start', '--data-dir', join(dir, 'inline'), ...inlinePorts, '--api-port', String(apiPort), '--log-level', 'warn'],
      `http://127.0.0.1:${apiPort}/readyz`,
    );
    procs.push(inline);
    const inlineHttp = Number(inlinePorts[1]);
    await sendAll(inlineHttp, warm.bodies, 'warmup', concurrency);
    const inlineRun = await sendAll(inlineHttp, bodies, 'bench', concurrency);
    const inlineRate = spans / (inlineRun.wallMs / 1000);
    const inlineRss = peakRss(inline.pid);
    await inline.stop();
    log(`inline: ${fmt(inlineRate)} spans/s`);

    // 2. kafka, all roles in one process
    const kApi = await freePort();
    const kPorts = await ports();
    const kafka = await startProc(
      ['start', '--config', configFile(dir, brokers, 'all'), '--data-dir', join(dir, 'kafka'), ...kPorts, '--api-port', String(kApi)],
      `http://127.0.0.1:${kApi}/readyz`,
    );
    procs.push(kafka);
    const kHttp = Number(kPorts[1]);
    const kBase = `http://127.0.0.1:${kApi}`;
    await sendAll(kHttp, warm.bodies, 'warmup', concurrency);
    await waitFor(async () => (await metric(kBase, 'tracehouse_spans_written_total')) >= warm.spans, 120_000);
    const written0 = await metric(kBase, 'tracehouse_spans_written_total');
    const kCpu0 = cpuSeconds(kafka.pid);
    const t0 = performance.now();
    const kRun = await sendAll(kHttp, bodies, 'bench', concurrency);
    await waitFor(async () => (await metric(kBase, 'tracehouse_spans_written_total')) - written0 >= spans, 300_000, 50);
    const kE2eMs = performance.now() - t0;
    const kCpu = cpuSeconds(kafka.pid) - kCpu0;
    const kRss = peakRss(kafka.pid);
    await kafka.stop();
    const kAckRate = spans / (kRun.wallMs / 1000);
    const kE2eRate = spans / (kE2eMs / 1000);
    log(`kafka all-in-one: acked ${fmt(kAckRate)} spans/s, end-to-end ${fmt(kE2eRate)} spans/s`);

    // 3. separate roles: receiver alone, then a writer catching up on the backlog
    const backlogSpans = Number(values.backlog);
    const rounds = Math.max(1, Math.ceil(backlogSpans / spans));
    const backlogBodies = Array.from({ length: rounds }, () => bodies).flat();
    const cfg = configFile(dir, brokers, 'roles');
    const rTel = await freePort();
    const rPorts = await ports();
    const receiver = await startProc(['receiver', '--config', cfg, ...rPorts, '--telemetry-port', String(rTel)], `http://127.0.0.1:${rTel}/readyz`);
    procs.push(receiver);
    const rHttp = Number(rPorts[1]);
    await sendAll(rHttp, warm.bodies, 'warmup', concurrency);
    const rCpu0 = cpuSeconds(receiver.pid);
    const rRun = await sendAll(rHttp, backlogBodies, 'bench', concurrency);
    const rCpu = cpuSeconds(receiver.pid) - rCpu0;
    const backlogTotal = rounds * spans;
    const producerRate = backlogTotal / (rRun.wallMs / 1000);
    const rRss = peakRss(receiver.pid);
    await receiver.stop();
    log(`receiver alone: ${fmt(producerRate)} spans/s acked; backlog of ${fmt(backlogTotal + warm.spans)} spans on the topic`);

    const wTel = await freePort();
    const w0 = performance.now();
    const writer = await startProc(
      ['writer', '--config', cfg, '--data-dir', join(dir, 'writer'), '--telemetry-port', String(wTel)],
      `http://127.0.0.1:${wTel}/readyz`,
    );
    procs.push(writer);
    const wBase = `http://127.0.0.1:${wTel}`;
    const wCpu0 = cpuSeconds(writer.pid);
    await waitFor(async () => (await metric(wBase, 'tracehouse_spans_written_total')) >= backlogTotal + warm.spans, 1_800_000, 200);
    const catchUpMs = performance.now() - w0;
    const wCpu = cpuSeconds(writer.pid) - wCpu0;
    const batches = await metric(wBase, 'tracehouse_write_batch_spans_count');
    const wRss = peakRss(writer.pid);
    await writer.stop();
    const catchUpRate = (backlogTotal + warm.spans) / (catchUpMs / 1000);

    console.log(`kafka  ${await machineLine()}`);
    console.log(
      `${fmt(spans)} spans per run in ${bodies.length} OTLP/HTTP protobuf requests of ${workload.spansPerRequest}, ${concurrency} senders; broker ${brokers}`,
    );
    console.log(
      `  inline bus (start)               ${fmt(inlineRate)} spans/s  ${fmt(mb(bytes) / (inlineRun.wallMs / 1000), 1)} MB/s  p50 ${fmt(percentile(inlineRun.latenciesMs, 50), 1)} ms  p95 ${fmt(percentile(inlineRun.latenciesMs, 95), 1)} ms  peak RSS ${fmt(inlineRss / MiB)} MiB`,
    );
    console.log(
      `  kafka bus (start --bus kafka)    acked ${fmt(kAckRate)} spans/s (p50 ${fmt(percentile(kRun.latenciesMs, 50), 1)} ms, p95 ${fmt(percentile(kRun.latenciesMs, 95), 1)} ms), end-to-end ${fmt(kE2eRate)} spans/s = ${fmt((kE2eRate / inlineRate) * 100)}% of inline (target ≥ 70%)`,
    );
    console.log(`                                   CPU ${fmt((kCpu / spans) * 100_000, 2)} s per 100k spans, peak RSS ${fmt(kRss / MiB)} MiB`);
    console.log(
      `  receiver alone (producer)        ${fmt(producerRate)} spans/s over ${fmt(backlogTotal)} spans, CPU ${fmt((rCpu / backlogTotal) * 100_000, 2)} s per 100k, peak RSS ${fmt(rRss / MiB)} MiB, ${rRun.retries} retries`,
    );
    console.log(
      `  writer catch-up                  ${fmt(catchUpRate)} spans/s over a backlog of ${fmt(backlogTotal + warm.spans)} spans (${fmt(catchUpMs / 1000, 1)} s incl. start-up, ${fmt(batches)} inserts)`,
    );
    console.log(
      `                                   = ${fmt(catchUpRate / inlineRate, 2)}x the steady inline ingest rate (target ≥ 2x); CPU ${fmt((wCpu / backlogTotal) * 100_000, 2)} s per 100k, peak RSS ${fmt(wRss / MiB)} MiB`,
    );
  } finally {
    for (const p of procs) await p.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await local?.stop();
  }
}

await main();
