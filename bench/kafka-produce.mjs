#!/usr/bin/env node
// Rough producer throughput ceiling of kafkajs against the local broker
// (deploy/local/kafka.sh). Not a test: it prints numbers.
//
//   node bench/kafka-produce.mjs 127.0.0.1:19092 \
//     [--messages 100000] [--size 2048] [--batch 500] [--compression gzip|none] \
//     [--idempotent true|false] [--inflight 1]
//
// `--inflight N` keeps N send() calls outstanding (N > 1 needs --idempotent false,
// since the idempotent kafkajs producer allows one in-flight request).
// The payload is half random (incompressible) and half repetitive JSON, so gzip
// neither looks free nor useless.
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';

const { Kafka, CompressionTypes, Partitioners, logLevel } = kafkajs;

const args = process.argv.slice(2);
const brokers = (args[0] && !args[0].startsWith('--') ? args.shift() : '127.0.0.1:19092').split(',');
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const total = Number(opt('messages', 100_000));
const size = Number(opt('size', 2048));
const batch = Number(opt('batch', 500));
const compression = opt('compression', 'gzip') === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
const idempotent = opt('idempotent', 'true') === 'true';
const inflight = Number(opt('inflight', 1));
if (idempotent && inflight > 1) throw new Error('--inflight > 1 needs --idempotent false');

const topic = `bench-${Date.now().toString(36)}`;
const kafka = new Kafka({ clientId: 'tracehouse-bench', brokers, logLevel: logLevel.ERROR });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });

const producer = kafka.producer({
  idempotent,
  maxInFlightRequests: idempotent ? 1 : inflight,
  createPartitioner: Partitioners.DefaultPartitioner,
});
await producer.connect();

function payload(i) {
  const head = JSON.stringify({ traceId: randomBytes(16).toString('hex'), seq: i, service: 'checkout', attrs: {} });
  const noise = randomBytes(Math.max(0, Math.floor(((size / 2 - head.length) * 3) / 4))).toString('base64');
  const filler = '"gen_ai.prompt":"You are a helpful assistant. "'.repeat(Math.ceil(size / 2 / 46));
  return (head + noise + filler).slice(0, size);
}
// Pre-build batches so the timing measures kafkajs + broker, not payload generation.
const batches = [];
for (let i = 0; i < total; i += batch) {
  const msgs = [];
  for (let j = i; j < Math.min(i + batch, total); j++) msgs.push({ key: `k${j % 1000}`, value: payload(j) });
  batches.push(msgs);
}

const latencies = [];
const t0 = process.hrtime.bigint();
let next = 0;
async function worker() {
  while (next < batches.length) {
    const msgs = batches[next++];
    const s = process.hrtime.bigint();
    await producer.send({ topic, acks: -1, compression, messages: msgs });
    latencies.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
}
await Promise.all(Array.from({ length: inflight }, worker));
const secs = Number(process.hrtime.bigint() - t0) / 1e9;

const ends = await admin.fetchTopicOffsets(topic);
const stored = ends.reduce((a, p) => a + Number(p.high), 0);
latencies.sort((a, b) => a - b);
const pct = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1);
console.log(
  JSON.stringify({
    topic,
    messages: total,
    stored,
    size,
    batch,
    compression: compression === CompressionTypes.GZIP ? 'gzip' : 'none',
    idempotent,
    inflight,
    seconds: +secs.toFixed(2),
    msgsPerSec: Math.round(total / secs),
    mbPerSec: +((total * size) / secs / 1e6).toFixed(1),
    sendLatencyMs: { p50: pct(0.5), p99: pct(0.99), max: latencies.at(-1).toFixed(1) },
  }),
);

await producer.disconnect();
if (opt('keep', 'false') !== 'true') await admin.deleteTopics({ topics: [topic] });
await admin.disconnect();
