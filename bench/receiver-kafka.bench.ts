/**
 * `tracehouse receiver --bus kafka` alone: OTLP/HTTP protobuf in, one message per trace out (acks=all), the
 * new code against a baseline checkout in alternating rounds on the same load:
 *
 *   npx tsx bench/receiver-kafka.bench.ts [--base DIR] [--rounds 3] [--requests 600] [--spans-per-request 100]
 *                                         [--concurrency 16] [--loaders 1] [--brokers host:port] [--producer-thread]
 *                                         [--client kafkajs|librdkafka] [--compare-client kafkajs|librdkafka] [--cpu-prof DIR]
 *                                         [--quick] [--json] [--no-build]
 *
 * `--client` is the new code's `bus.kafka.client` (kafkajs by default; librdkafka needs the optional
 * @confluentinc/kafka-javascript installed); the targets are computed on it. `--compare-client` adds a
 * round of the new code on the other client beside each, printed with its ratio to the first.
 *
 * Each round starts a fresh receiver process on its own topic, sends ~2 KB GenAI spans from `--loaders`
 * separate load processes (their CPU is reported: they must not be the bottleneck), and measures spans/s
 * acknowledged, CPU s per 100K spans (utime + stime of the receiver, all threads, from /proc) and peak RSS
 * (VmHWM). It then consumes the topic and counts the spans in it: every acknowledged span must be there.
 * The broker is KAFKA_BROKERS / --brokers, else one started with deploy/local/kafka.sh.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { stringify } from 'yaml';
import { kafkaConfigSchema } from '../src/bus/kafka/config.js';
import { scanTraceIdsProtobuf } from '../src/otlp/decode.js';
import { startLocalKafka } from '../test/setup/kafka.js';
import { CLI, ROOT, cpuSeconds, ensureBuilt, freePort, machineBusySeconds, peakRss } from './lib/harness.js';
import { fmt, machineLine, median } from './lib/stats.js';
import { boundTarget, ratioTarget, type TargetFigure } from './lib/targets.js';
import type { Workload } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    rounds: { type: 'string' },
    requests: { type: 'string' },
    'spans-per-request': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '16' },
    loaders: { type: 'string', default: '1' },
    brokers: { type: 'string' },
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    /** Also run the new code with its producer in a worker thread (bus.kafka.producer_thread: true). */
    'producer-thread': { type: 'boolean', default: false },
    client: { type: 'string', default: 'kafkajs' },
    'compare-client': { type: 'string' },
    /** CPU profiles of the new code's receivers (`node --cpu-prof`) into this directory. */
    'cpu-prof': { type: 'string' },
  },
});
// Checked as `bus.kafka.client` is.
const clientSetting = kafkaConfigSchema.shape.client;
const client = clientSetting.parse(values.client);
const compareClient = values['compare-client'] === undefined ? null : clientSetting.parse(values['compare-client']);
const quick = values.quick;
const rounds = Number(values.rounds ?? (quick ? 1 : 3));
const requests = Number(values.requests ?? (quick ? 200 : 600));
const loaders = Number(values.loaders);
const concurrency = Number(values.concurrency);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const MiB = 2 ** 20;
const COLLECTOR = { spansPerSec: 75_000, cpuPer100k: 1.15, rssMiB: 88 };

interface Proc {
  child: ChildProcess;
  pid: number;
  stop: () => Promise<void>;
}

/** `node CLI receiver …` of a checkout, ready once its telemetry port answers /readyz. */
async function startReceiver(cli: string, cwd: string, args: string[], readyUrl: string, nodeArgs: string[] = []): Promise<Proc> {
  const child = spawn(process.execPath, [...nodeArgs, cli, 'receiver', ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`receiver exited with ${child.exitCode}:\n${err}`);
    try {
      if ((await fetch(readyUrl)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`receiver not ready after 120 s:\n${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    pid: child.pid as number,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface LoadResult {
  wallMs: number;
  retries: number;
  spans: number;
  warmupSpans: number;
}

/** One load process: resolves `started` when its warm-up is done, `done` with its result. */
function startLoader(port: number, workload: Workload, warmupRequests: number): { pid: number; started: Promise<void>; done: Promise<LoadResult> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench/lib/receiver-load.ts'), String(port), String(concurrency), JSON.stringify(workload), String(warmupRequests)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let onStart: () => void = () => undefined;
  const started = new Promise<void>((r) => {
    onStart = r;
  });
  const done = new Promise<LoadResult>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'start') onStart();
      else if (line.startsWith('done ')) resolve(JSON.parse(line.slice(5)) as LoadResult);
    });
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
  });
  return { pid: child.pid as number, started, done };
}

/** Spans in every message of `topic` (each message decoded by the id scan the evaluator uses). */
async function spansOnTopic(brokers: string[], topic: string): Promise<{ messages: number; spans: number }> {
  const kafka = new kafkajs.Kafka({ brokers, clientId: 'bench-count', logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  const consumer = kafka.consumer({ groupId: `bench-count-${topic}`, maxBytes: 64 * MiB });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let spans = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read ${seen} of ${total} messages of ${topic} in 120 s`)), 120_000);
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            seen++;
            if (m.value) for (const rs of scanTraceIdsProtobuf(m.value, [])) for (const s of rs.scopes) spans += s.length;
          }
          if (seen >= total) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
    if (total === 0) resolve();
  });
  await consumer.disconnect();
  return { messages: seen, spans };
}

/** The broker's process, when deploy/local/kafka.sh started it for this run: its CPU is reported too. */
let brokerPid: number | null = null;

interface RoundResult {
  label: string;
  spansPerSec: number;
  cpuPer100k: number;
  cores: number;
  rssMiB: number;
  loaderCpuPer100k: number;
  /** Cores busy on the whole machine during the round (receiver, loaders, broker, anything else). */
  machineCores: number;
  /** The broker's CPU s per 100K spans, when this benchmark started the broker (else null). */
  brokerCpuPer100k: number | null;
  retries: number;
  acked: number;
  onTopic: number;
}

async function round(
  label: string,
  cli: string,
  cwd: string,
  brokers: string[],
  dir: string,
  id: string,
  workload: Workload,
  extra: Record<string, unknown> = {},
): Promise<RoundResult> {
  const topic = `bench-recv-${id}.spans`;
  const cfg = join(dir, `${id}.yaml`);
  writeFileSync(
    cfg,
    stringify({
      bus: {
        kind: 'kafka',
        kafka: { brokers, topics: { spans: topic, logs: `bench-recv-${id}.logs`, dead_letter: `bench-recv-${id}.dlq` }, partitions: 6, ...extra },
      },
      log_level: 'warn',
    }),
  );
  const tel = await freePort();
  const http = await freePort();
  const grpc = await freePort();
  const receiver = await startReceiver(
    cli,
    cwd,
    ['--config', cfg, '--http-port', String(http), '--grpc-port', String(grpc), '--telemetry-port', String(tel)],
    `http://127.0.0.1:${tel}/readyz`,
    values['cpu-prof'] && label !== 'base' ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof'], '--cpu-prof-name', `receiver-${id}.cpuprofile`] : [],
  );
  try {
    const perLoader = Math.ceil(workload.requests / loaders);
    const ls = Array.from({ length: loaders }, (_, i) =>
      startLoader(http, { ...workload, seed: workload.seed + i * 7919, requests: perLoader }, quick ? 20 : 60),
    );
    await Promise.all(ls.map((l) => l.started));
    const cpu0 = cpuSeconds(receiver.pid);
    const lcpu0 = ls.map((l) => cpuSeconds(l.pid));
    const busy0 = machineBusySeconds();
    const bcpu0 = brokerPid === null ? 0 : cpuSeconds(brokerPid);
    const t0 = performance.now();
    // Loader CPU is read just before each exits (its last line comes right before).
    const results = await Promise.all(
      ls.map(async (l, i) => {
        const r = await l.done;
        return { ...r, cpu: cpuSeconds(l.pid) - (lcpu0[i] as number) };
      }),
    );
    const wallMs = performance.now() - t0;
    const machineCores = (machineBusySeconds() - busy0) / (wallMs / 1000);
    const brokerCpu = brokerPid === null ? null : cpuSeconds(brokerPid) - bcpu0;
    const cpu = cpuSeconds(receiver.pid) - cpu0;
    const rss = peakRss(receiver.pid);
    const acked = results.reduce((n, r) => n + r.spans, 0);
    const warm = results.reduce((n, r) => n + r.warmupSpans, 0);
    const loaderCpu = results.reduce((n, r) => n + r.cpu, 0);
    await receiver.stop();
    const onTopic = await spansOnTopic(brokers, topic);
    const r: RoundResult = {
      label,
      spansPerSec: acked / (wallMs / 1000),
      cpuPer100k: (cpu / acked) * 100_000,
      cores: cpu / (wallMs / 1000),
      rssMiB: rss / MiB,
      loaderCpuPer100k: (loaderCpu / acked) * 100_000,
      machineCores,
      brokerCpuPer100k: brokerCpu === null ? null : (brokerCpu / acked) * 100_000,
      retries: results.reduce((n, x) => n + x.retries, 0),
      acked,
      onTopic: onTopic.spans - warm,
    };
    log(
      `  ${label.padEnd(5)} ${fmt(r.spansPerSec)} spans/s, ${fmt(r.cpuPer100k, 2)} CPU s/100K (${fmt(r.cores, 2)} cores), peak RSS ${fmt(r.rssMiB)} MiB, ` +
        `loaders ${fmt(r.loaderCpuPer100k, 2)} CPU s/100K, machine ${fmt(r.machineCores, 2)} of ${cpus().length} cores busy${r.brokerCpuPer100k === null ? '' : ` (broker ${fmt(r.brokerCpuPer100k, 2)} CPU s/100K)`}, ${r.retries} retries; topic holds ${fmt(onTopic.spans)} spans in ${fmt(onTopic.messages)} messages (acked ${fmt(acked + warm)})`,
    );
    if (onTopic.spans < acked + warm) throw new Error(`${label}: ${acked + warm} spans acknowledged but only ${onTopic.spans} on ${topic}`);
    return r;
  } finally {
    await receiver.stop();
  }
}

async function main(): Promise<void> {
  ensureBuilt(!values['no-build']);
  const local = values.brokers || process.env.KAFKA_BROKERS ? null : await startLocalKafka();
  const brokers = (values.brokers ?? process.env.KAFKA_BROKERS ?? local?.brokers ?? '').split(',');
  brokerPid = local ? local.pid() : null;
  const dir = mkdtempSync(join(tmpdir(), 'tracehouse-rbench-'));
  const runId = Date.now().toString(36);
  const workload: Workload = {
    seed: 23,
    endMs: Date.now() - 60_000,
    windowMs: 10 * 60_000,
    requests,
    spansPerRequest: Number(values['spans-per-request']),
    textScale: 1,
  };
  log(await machineLine());
  log(
    `receiver → Kafka: ${requests} requests × ${workload.spansPerRequest} spans, ${concurrency} senders × ${loaders} load process(es), ${rounds} round(s), ${cpus().length} cores`,
  );
  const news: RoundResult[] = [];
  const bases: RoundResult[] = [];
  const compares: RoundResult[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      if (values.base) bases.push(await round('base', join(values.base, 'dist/cli/main.js'), values.base, brokers, dir, `${runId}-b${i}`, workload));
      news.push(await round('new', CLI, ROOT, brokers, dir, `${runId}-n${i}`, workload, { client }));
      if (compareClient) compares.push(await round(`new-${compareClient}`, CLI, ROOT, brokers, dir, `${runId}-c${i}`, workload, { client: compareClient }));
      if (values['producer-thread']) await round('new-thr', CLI, ROOT, brokers, dir, `${runId}-t${i}`, workload, { producer_thread: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await local?.stop();
  }
  const pick = (rs: RoundResult[], f: (r: RoundResult) => number): number => median(rs.map(f));
  const rate = pick(news, (r) => r.spansPerSec);
  const cores = pick(news, (r) => r.cores);
  const perCore = rate / Math.max(1, cores);
  const cpu = pick(news, (r) => r.cpuPer100k);
  const rss = Math.max(...news.map((r) => r.rssMiB));
  const base = bases.length
    ? { rate: pick(bases, (r) => r.spansPerSec), cpu: pick(bases, (r) => r.cpuPer100k), rss: Math.max(...bases.map((r) => r.rssMiB)) }
    : null;
  const T1 = `1 receiver → Kafka (${client})`;
  const targets: TargetFigure[] = [
    boundTarget(
      {
        target: T1,
        metric: 'spans/s acknowledged per core used (at least one core counted)',
        figure: perCore,
        unit: 'spans/s',
        reference: { label: 'Collector (75K spans/s on ~0.86 core)', value: COLLECTOR.spansPerSec },
      },
      { min: COLLECTOR.spansPerSec },
    ),
    ...(base
      ? [
          ratioTarget(
            {
              target: T1,
              metric: 'spans/s acknowledged',
              figure: rate,
              unit: 'spans/s',
              baseline: { label: 'baseline', value: base.rate },
              reference: { label: 'Collector', value: COLLECTOR.spansPerSec },
            },
            { min: Number((COLLECTOR.spansPerSec / base.rate).toFixed(2)) },
          ),
        ]
      : [
          boundTarget(
            { target: T1, metric: 'spans/s acknowledged', figure: rate, unit: 'spans/s', reference: { label: 'Collector', value: COLLECTOR.spansPerSec } },
            { min: COLLECTOR.spansPerSec },
          ),
        ]),
    boundTarget(
      {
        target: T1,
        metric: 'receiver CPU s per 100K spans',
        figure: cpu,
        unit: 's',
        ...(base ? { baseline: { label: 'baseline', value: base.cpu } } : {}),
        reference: { label: 'Collector', value: COLLECTOR.cpuPer100k },
      },
      { max: 2 },
    ),
    boundTarget({ target: T1, metric: 'cores used by the receiver', figure: cores, unit: 'cores' }, { min: 1.5 }),
    boundTarget(
      {
        target: '5 memory',
        metric: 'receiver peak RSS',
        figure: rss,
        unit: 'MiB',
        ...(base ? { baseline: { label: 'baseline', value: base.rss } } : {}),
        reference: { label: 'Collector', value: COLLECTOR.rssMiB },
      },
      { max: 150 },
    ),
  ];
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ targets, client, compareClient, rounds: { new: news, base: bases, compare: compares } })}\n`);
    return;
  }
  console.log('\nreceiver → Kafka (medians over rounds)');
  if (base) console.log(`  baseline  ${fmt(base.rate)} spans/s, ${fmt(base.cpu, 2)} CPU s/100K, peak RSS ${fmt(base.rss)} MiB`);
  if (compares.length) {
    const cRate = pick(compares, (r) => r.spansPerSec);
    const cCpu = pick(compares, (r) => r.cpuPer100k);
    console.log(
      `  new, ${compareClient}  ${fmt(cRate)} spans/s, ${fmt(cCpu, 2)} CPU s/100K, ${fmt(
        pick(compares, (r) => r.cores),
        2,
      )} cores, peak RSS ${fmt(Math.max(...compares.map((r) => r.rssMiB)))} MiB` +
        `  (${client} / ${compareClient}: ${fmt(rate / cRate, 2)}× spans/s, ${fmt(cpu / cCpu, 2)}× CPU)`,
    );
  }
  console.log(
    `  new, ${client}  ${fmt(rate)} spans/s, ${fmt(cpu, 2)} CPU s/100K, ${fmt(cores, 2)} cores, peak RSS ${fmt(rss)} MiB${base ? `  (${fmt(rate / base.rate, 2)}× spans/s, ${fmt(cpu / base.cpu, 2)}× CPU)` : ''}`,
  );
  console.log('\ntargets:');
  for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'MISSED '} ${t.target}: ${t.metric} ${fmt(t.figure, 2)} ${t.unit} (${t.goal})`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
