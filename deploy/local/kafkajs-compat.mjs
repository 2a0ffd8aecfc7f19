#!/usr/bin/env node
// Checks that kafkajs can do everything the tracehouse Kafka bus relies on
// against a real broker (started by deploy/local/kafka.sh).
//
//   node deploy/local/kafkajs-compat.mjs 127.0.0.1:19092
//
// Each check prints `ok` or `FAIL` with the error (class, type, code, message);
// the exit code is 0 only when every check passed. All topic and group names are
// unique per run, and the topic is deleted at the end, so the script can be
// rerun against the same broker.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';

const require = createRequire(import.meta.url);
const { Kafka, CompressionTypes, Partitioners, logLevel } = kafkajs;
const kafkajsVersion = require('kafkajs/package.json').version;

const brokers = (process.argv[2] ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const topic = `compat-${runId}`;
const groupId = `compat-group-${runId}`;
const MAX_MESSAGE_BYTES = 65536;
const STEP_TIMEOUT_MS = 30_000;

// kafkajs logs go to a list instead of the console so the report stays
// readable; warnings and errors are printed under the check that caused them.
const kafkaLogs = [];
const kafka = new Kafka({
  clientId: 'tracehouse-compat',
  brokers,
  connectionTimeout: 3000,
  requestTimeout: 10_000,
  retry: { retries: 3, initialRetryTime: 200 },
  logLevel: logLevel.WARN,
  logCreator:
    () =>
    ({ level, log }) => {
      const { message, error, ...rest } = log;
      kafkaLogs.push(`${level === logLevel.ERROR ? 'ERROR' : 'WARN'} ${message}${error ? `: ${error}` : ''} ${JSON.stringify(rest)}`);
    },
});

const results = [];

function describeError(err) {
  const parts = [err?.name ?? typeof err];
  if (err?.type) parts.push(`type=${err.type}`);
  if (err?.code !== undefined) parts.push(`code=${err.code}`);
  if (err?.retriable !== undefined) parts.push(`retriable=${err.retriable}`);
  parts.push(`message="${err?.message ?? String(err)}"`);
  if (err?.cause) parts.push(`cause=(${describeError(err.cause)})`);
  return parts.join(' ');
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function check(name, fn) {
  const logsBefore = kafkaLogs.length;
  const t0 = Date.now();
  try {
    const detail = await withTimeout(Promise.resolve().then(fn), STEP_TIMEOUT_MS, name);
    results.push({ name, ok: true, detail: detail ?? '' });
    console.log(`ok    ${name} (${Date.now() - t0} ms)${detail ? ` — ${detail}` : ''}`);
  } catch (err) {
    results.push({ name, ok: false, detail: describeError(err) });
    console.log(`FAIL  ${name} (${Date.now() - t0} ms) — ${describeError(err)}`);
  }
  for (const line of kafkaLogs.slice(logsBefore)) console.log(`      kafkajs ${line}`);
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

// Messages with keys (spread over partitions) and headers, including a
// multi-valued header, so we see exactly what comes back.
function makeMessages(from, to) {
  const out = [];
  for (let i = from; i < to; i++) {
    out.push({
      key: `trace-${i % 7}`,
      value: JSON.stringify({ seq: i, body: 'x'.repeat(200) }),
      headers: { 'x-seq': String(i), 'content-type': 'application/json', 'x-multi': ['a', 'b'] },
    });
  }
  return out;
}

// Runs a consumer of `groupId` with autoCommit off; eachBatch processes the
// batch and commits `last offset + 1` explicitly via consumer.commitOffsets.
// Resolves once `expected` messages arrived, then waits briefly for extras.
async function consumeWithManualCommit(label, expected) {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  const received = [];
  let done;
  const gotAll = new Promise((resolve) => {
    done = resolve;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      for (const m of batch.messages) {
        received.push({ partition: batch.partition, offset: m.offset, key: m.key?.toString(), value: m.value?.toString(), headers: m.headers });
        resolveOffset(m.offset);
      }
      if (batch.messages.length > 0) {
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      }
      await heartbeat();
      if (received.length >= expected) done();
    },
  });
  try {
    await withTimeout(gotAll, 20_000, `${label}: waiting for ${expected} messages, got so far`).catch((err) => {
      throw new Error(`${err.message} ${received.length}`);
    });
    // Give an erroneous replay a chance to show up before we judge.
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await consumer.disconnect();
  }
  return received;
}

let admin;
let producer;
const sent = [];

console.log(`kafkajs ${kafkajsVersion} against ${brokers.join(',')}; topic ${topic}, group ${groupId}`);

await check('admin connect + describeCluster', async () => {
  admin = kafka.admin();
  await admin.connect();
  const c = await admin.describeCluster();
  return `controller=${c.controller} brokers=${c.brokers.map((b) => `${b.nodeId}@${b.host}:${b.port}`).join(',')}`;
});

await check('admin.createTopics (3 partitions, retention.ms, max.message.bytes)', async () => {
  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        numPartitions: 3,
        replicationFactor: 1,
        configEntries: [
          { name: 'retention.ms', value: '3600000' },
          { name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) },
        ],
      },
    ],
  });
  assert(created === true, `createTopics returned ${created}`);
  // Confirm that the configs really landed on the topic.
  const cfg = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ['retention.ms', 'max.message.bytes'] }],
  });
  const entries = Object.fromEntries(cfg.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
  assert(entries['retention.ms'] === '3600000', `retention.ms=${entries['retention.ms']}`);
  assert(entries['max.message.bytes'] === String(MAX_MESSAGE_BYTES), `max.message.bytes=${entries['max.message.bytes']}`);
  return `created; describeConfigs: ${JSON.stringify(entries)}`;
});

await check('admin.fetchTopicMetadata', async () => {
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  const parts = md.topics[0].partitions;
  assert(parts.length === 3, `${parts.length} partitions`);
  assert(
    parts.every((p) => p.leader === 1),
    'every partition led by node 1',
  );
  return parts.map((p) => `p${p.partitionId}:leader=${p.leader},isr=[${p.isr}]`).join(' ');
});

await check('idempotent producer (acks=-1, maxInFlightRequests=1) sends 30 GZIP messages with keys+headers', async () => {
  producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const messages = makeMessages(0, 30);
  const meta = await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages });
  sent.push(...messages);
  assert(
    meta.every((r) => r.errorCode === 0),
    JSON.stringify(meta),
  );
  return `record metadata: ${meta.map((r) => `p${r.partition}@${r.baseOffset}`).join(' ')}`;
});

await check('consumer #1 (autoCommit:false, eachBatch + commitOffsets) reads all 30 back intact', async () => {
  const got = await consumeWithManualCommit('consumer #1', 30);
  assert(got.length === 30, `received ${got.length}`);
  const bySeq = new Map(got.map((m) => [JSON.parse(m.value).seq, m]));
  for (const s of sent) {
    const seq = JSON.parse(s.value).seq;
    const m = bySeq.get(seq);
    assert(m, `seq ${seq} missing`);
    assert(m.key === s.key, `seq ${seq} key ${m.key}`);
    assert(m.headers['x-seq']?.toString() === String(seq), `seq ${seq} x-seq header ${m.headers['x-seq']}`);
    assert(m.headers['content-type']?.toString() === 'application/json', 'content-type header');
    const multi = [].concat(m.headers['x-multi']).map(String);
    assert(multi.join(',') === 'a,b', `x-multi header ${multi}`);
  }
  // Same key must always land on the same partition.
  const keyPart = new Map();
  for (const m of got) {
    if (keyPart.has(m.key)) assert(keyPart.get(m.key) === m.partition, `key ${m.key} on two partitions`);
    keyPart.set(m.key, m.partition);
  }
  const perPartition = [0, 1, 2].map((p) => got.filter((m) => m.partition === p).length);
  return `30/30 with keys, headers (incl. multi-valued) and values intact; per partition ${perPartition.join('/')}`;
});

await check('admin.fetchOffsets == log end offsets after consumer #1 commit', async () => {
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  const ends = await admin.fetchTopicOffsets(topic);
  const c = committed[0].partitions.map((p) => `p${p.partition}=${p.offset}`).sort();
  const e = ends.map((p) => `p${p.partition}=${p.high}`).sort();
  assert(c.join() === e.join(), `committed ${c} vs high watermarks ${e}`);
  return `committed ${c.join(' ')} (high watermarks ${e.join(' ')})`;
});

await check('consumer #2, same group, resumes from the committed offsets (gets only 10 new messages)', async () => {
  const more = makeMessages(30, 40);
  await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: more });
  sent.push(...more);
  const got = await consumeWithManualCommit('consumer #2', 10);
  const seqs = got.map((m) => JSON.parse(m.value).seq).sort((a, b) => a - b);
  assert(got.length === 10, `received ${got.length}: seqs ${seqs}`);
  assert(seqs[0] === 30 && seqs[9] === 39, `seqs ${seqs}`);
  return `received seqs ${seqs[0]}..${seqs[9]} only, no replay`;
});

let oversizeError;
await check(`message over max.message.bytes (${MAX_MESSAGE_BYTES}) is refused`, async () => {
  // Random bytes do not compress, so the gzip batch stays over the limit.
  const big = randomBytes(MAX_MESSAGE_BYTES * 2);
  try {
    await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: [{ key: 'big', value: big }] });
  } catch (err) {
    oversizeError = err;
    return `refused with ${describeError(err)}`;
  }
  throw new Error('a 128 KiB message was accepted');
});

await check('same idempotent producer still sends after the refusal', async () => {
  const after = makeMessages(40, 41);
  const meta = await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: after });
  return `p${meta[0].partition}@${meta[0].baseOffset}`;
});

await check('admin.deleteTopics (cleanup)', async () => {
  await producer?.disconnect();
  await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
  await admin.deleteGroups([groupId]).catch(() => {});
  await admin.disconnect();
});

const failed = results.filter((r) => !r.ok);
console.log(`\n${results.length - failed.length} passed, ${failed.length} failed`);
if (oversizeError) console.log(`oversize error class: ${oversizeError.constructor?.name}`);
process.exit(failed.length ? 1 : 0);
