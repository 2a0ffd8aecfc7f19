/**
 * What the Kafka client costs the receiver: the receiver's own per-trace messages (regrouped on the wire
 * bytes exactly as the OTLP receiver does) sent through the bus' `Sender` interface, once by the kafkajs
 * sender (idempotent, acks=all, group commit) and once by the librdkafka sender (`bus.kafka.client:
 * librdkafka`, Confluent's `@confluentinc/kafka-javascript`), in alternating rounds against the same broker:
 *
 *   npx tsx bench/kafka-client.bench.ts [--rounds 3] [--requests 600] [--concurrency 16] [--brokers host:port] [--json]
 *
 * Each round runs in a fresh process (so CPU and RSS are the client's alone) that builds its messages
 * first, then sends them from `--concurrency` concurrent callers, each awaiting its own acknowledgement,
 * as the receiver's requests do. CPU is the process's (all threads, librdkafka's included). Every round
 * then checks the topic holds every message it was acknowledged for.
 *
 * librdkafka is an optional dependency: see the README ("The receivers' Kafka client") where npm cannot
 * download its prebuilt binary.
 * The broker is KAFKA_BROKERS / --brokers, else one started with deploy/local/kafka.sh.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import pino from 'pino';
import kafkajs from 'kafkajs';
import { createKafka, ensureTopics } from '../src/bus/kafka/client.js';
import { kafkaConfigSchema } from '../src/bus/kafka/config.js';
import { KAFKA_PROJECT_HEADER, type OutMessage } from '../src/bus/kafka/messages.js';
import { LibrdkafkaSender } from '../src/bus/kafka/librdkafka-sender.js';
import { KafkaSender, receiverProducer, type Sender } from '../src/bus/kafka/sender.js';
import { walkTraceProtobuf } from '../src/otlp/decode-protobuf.js';
import { encodeTraceMessage, type TracePart } from '../src/otlp/trace-messages.js';
import { validateWireTraceRequest } from '../src/otlp/validate.js';
import { startLocalKafka } from '../test/setup/kafka.js';
import { cpuSeconds, peakRss, ROOT } from './lib/harness.js';
import { fmt, machineLine, median } from './lib/stats.js';
import { buildWorkload, type Workload } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '600' },
    concurrency: { type: 'string', default: '16' },
    brokers: { type: 'string' },
    json: { type: 'boolean', default: false },
    // internal: one round in this process
    child: { type: 'string' },
    'broker-pid': { type: 'string' },
    topic: { type: 'string' },
  },
});
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const MiB = 2 ** 20;
const PARTITIONS = 6;

/** The receiver's messages for one OTLP/protobuf request: one per trace, re-framed from the wire bytes. */
function requestMessages(body: Buffer): OutMessage[] {
  const { accepted } = validateWireTraceRequest(walkTraceProtobuf(body));
  const traces = new Map<string, TracePart[]>();
  for (const rs of accepted.resourceSpans)
    for (const ss of rs.scopeSpans)
      for (const span of ss.spans) {
        const parts = traces.get(span.traceId);
        if (parts) parts.push({ rs, ss, span });
        else traces.set(span.traceId, [{ rs, ss, span }]);
      }
  return [...traces].map(([key, parts]) => ({
    key,
    value: encodeTraceMessage(body, parts),
    headers: { [KAFKA_PROJECT_HEADER]: 'bench' },
    items: parts.length,
  }));
}

interface RoundResult {
  client: string;
  spansPerSec: number;
  cpuPer100k: number;
  cores: number;
  rssMiB: number;
  messages: number;
  spans: number;
  /** The broker's CPU s per 100K spans over the same sends, when this benchmark started the broker. */
  brokerCpuPer100k: number | null;
}

async function child(client: string, topic: string, brokers: string[]): Promise<void> {
  const cfg = kafkaConfigSchema.parse({ brokers, topics: { spans: topic, logs: `${topic}.logs`, dead_letter: `${topic}.dlq` }, partitions: PARTITIONS });
  // ~2 KB GenAI spans, 100 per request, as bench/receiver-kafka.bench.ts sends them.
  const workload: Workload = {
    seed: 4242,
    endMs: Date.now() - 60_000,
    windowMs: 10 * 60_000,
    requests: Number(values.requests),
    spansPerRequest: 100,
    textScale: 1,
  };
  const requests = buildWorkload(workload).bodies.map(requestMessages);
  const warm = buildWorkload({ ...workload, requests: 60, seed: 99 }).bodies.map(requestMessages);
  let sender: Sender;
  if (client === 'kafkajs') {
    const kafka = createKafka(cfg, pino({ level: 'warn' }), 'bench');
    const producer = receiverProducer(kafka, cfg);
    await producer.connect();
    sender = new KafkaSender(producer, cfg);
  } else {
    sender = await LibrdkafkaSender.start(cfg, pino({ level: 'warn' }));
  }
  const run = async (set: OutMessage[][]): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: Number(values.concurrency) }, async () => {
        while (next < set.length) {
          const messages = set[next++] as OutMessage[];
          await sender.send(
            [{ topic, messages }],
            messages.reduce((n, m) => n + m.value.length, 0),
          );
        }
      }),
    );
  };
  await run(warm);
  const brokerPid = values['broker-pid'] ? Number(values['broker-pid']) : null;
  const broker0 = brokerPid === null ? 0 : cpuSeconds(brokerPid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(requests);
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const brokerS = brokerPid === null ? null : cpuSeconds(brokerPid) - broker0;
  await sender.close();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const spans = requests.flat().reduce((n, m) => n + m.items, 0);
  const r: RoundResult = {
    client,
    spansPerSec: spans / wallS,
    cpuPer100k: (cpuS / spans) * 100_000,
    cores: cpuS / wallS,
    rssMiB: peakRss(process.pid) / MiB,
    messages: requests.flat().length + warm.flat().length,
    spans,
    brokerCpuPer100k: brokerS === null ? null : (brokerS / spans) * 100_000,
  };
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

function runChild(client: string, topic: string, brokers: string[]): Promise<RoundResult> {
  const args = [
    '--import',
    'tsx',
    'bench/kafka-client.bench.ts',
    '--child',
    client,
    '--topic',
    topic,
    '--brokers',
    brokers.join(','),
    '--requests',
    String(values.requests),
    '--concurrency',
    String(values.concurrency),
    ...(brokerPid === null ? [] : ['--broker-pid', String(brokerPid)]),
  ];
  const p = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${client} round exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as RoundResult);
    });
  });
}

/** Messages on `topic` (high minus low watermarks over its partitions). */
async function messagesOn(brokers: string[], topic: string): Promise<number> {
  const admin = new kafkajs.Kafka({ brokers, clientId: 'bench-count', logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** The broker's process when deploy/local/kafka.sh started it here: its CPU is reported beside the client's. */
let brokerPid: number | null = null;

async function main(): Promise<void> {
  const local = values.brokers || process.env.KAFKA_BROKERS ? null : await startLocalKafka();
  const brokers = (values.brokers ?? process.env.KAFKA_BROKERS ?? local?.brokers ?? '').split(',');
  if (values.child) return child(values.child, values.topic as string, brokers);
  brokerPid = local ? local.pid() : null;
  const clients = ['kafkajs', 'librdkafka'];
  const results: RoundResult[] = [];
  const run = Date.now().toString(36);
  try {
    for (let i = 0; i < Number(values.rounds); i++) {
      for (const client of i % 2 === 0 ? clients : [...clients].reverse()) {
        const topic = `bench-client-${run}-${client}-${i}`;
        // Created here, as the receiver does at start, so neither client pays for topic creation.
        const cfg = kafkaConfigSchema.parse({ brokers, topics: { spans: topic, logs: `${topic}.logs`, dead_letter: `${topic}.dlq` }, partitions: PARTITIONS });
        await ensureTopics(createKafka(cfg, pino({ level: 'warn' }), 'bench'), cfg);
        const r = await runChild(client, topic, brokers);
        const onTopic = await messagesOn(brokers, topic);
        log(
          `  ${client.padEnd(10)} ${fmt(r.spansPerSec)} spans/s, ${fmt(r.cpuPer100k, 2)} CPU s/100K (${fmt(r.cores, 2)} cores), peak RSS ${fmt(r.rssMiB)} MiB${r.brokerCpuPer100k === null ? '' : `, broker ${fmt(r.brokerCpuPer100k, 2)} CPU s/100K`}; topic holds ${fmt(onTopic)} of ${fmt(r.messages)} messages`,
        );
        if (onTopic < r.messages) throw new Error(`${client}: ${r.messages} messages acknowledged, ${onTopic} on ${topic}`);
        results.push(r);
      }
    }
  } finally {
    await local?.stop();
  }
  const summary = Object.fromEntries(
    clients.map((c) => {
      const rs = results.filter((r) => r.client === c);
      return [
        c,
        {
          spansPerSec: median(rs.map((r) => r.spansPerSec)),
          cpuPer100k: median(rs.map((r) => r.cpuPer100k)),
          cores: median(rs.map((r) => r.cores)),
          rssMiB: median(rs.map((r) => r.rssMiB)),
          brokerCpuPer100k: brokerPid === null ? null : median(rs.map((r) => r.brokerCpuPer100k ?? Number.NaN)),
        },
      ];
    }),
  ) as Record<string, { spansPerSec: number; cpuPer100k: number; cores: number; rssMiB: number; brokerCpuPer100k: number | null }>;
  const k = summary.kafkajs;
  const c = summary.librdkafka;
  if (!k || !c) throw new Error('no rounds ran');
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ machine: await machineLine(), rounds: results, summary })}\n`);
    return;
  }
  console.log(`\nKafka client, the receiver's messages through Sender, medians of ${values.rounds} rounds  ${await machineLine()}`);
  for (const [name, s] of Object.entries(summary))
    console.log(
      `  ${name.padEnd(10)} ${fmt(s.spansPerSec)} spans/s  ${fmt(s.cpuPer100k, 2)} CPU s/100K  ${fmt(s.cores, 2)} cores  peak RSS ${fmt(s.rssMiB)} MiB${s.brokerCpuPer100k === null ? '' : `  broker ${fmt(s.brokerCpuPer100k, 2)} CPU s/100K`}`,
    );
  console.log(`  librdkafka / kafkajs: ${fmt(c.spansPerSec / k.spansPerSec, 2)}× spans/s, ${fmt(c.cpuPer100k / k.cpuPer100k, 2)}× CPU per span`);
}

await main();
