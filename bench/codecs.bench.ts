/**
 * The Kafka codecs tracehouse registers with kafkajs (src/bus/kafka/codecs.ts), on what the bus carries:
 * OTLP protobuf trace messages, packed into record-batch-sized buffers (`--batch-kb`) as a producer sends
 * them. For each codec: compressed size, compress and decompress MB/s of uncompressed data (median of
 * `--rounds`, one thread), and both speeds as a ratio to gzip (kafkajs' own codec, measured in the same run,
 * since this machine is noisy).
 *
 *   npx tsx bench/codecs.bench.ts [--traces 3000] [--batch-kb 256] [--rounds 5] [--warmup 2] [--json]
 */
import { parseArgs } from 'node:util';
import { compress, decompress, type CompressionName } from '../src/bus/kafka/codecs.js';
import { generateRequests } from './lib/genai-spans.js';
import { fmt, machineLine, mb, median } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    traces: { type: 'string', default: '3000' },
    'batch-kb': { type: 'string', default: '256' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    seed: { type: 'string', default: '42' },
    json: { type: 'boolean', default: false },
  },
});
const traces = Number(values.traces);
const batchBytes = Number(values['batch-kb']) * 1024;
const rounds = Number(values.rounds);
const warmup = Number(values.warmup);

// One request per trace: the size of a bus message (one trace per message).
const { bodies } = generateRequests({
  seed: Number(values.seed),
  endMs: Date.now(),
  windowMs: 3_600_000,
  traces,
  requests: traces,
  spansPerRequest: 3,
  textScale: 1,
});
const batches: Buffer[] = [];
let pending: Buffer[] = [];
let size = 0;
for (const body of bodies) {
  pending.push(body);
  size += body.length;
  if (size >= batchBytes) {
    batches.push(Buffer.concat(pending));
    pending = [];
    size = 0;
  }
}
if (pending.length) batches.push(Buffer.concat(pending));
const total = batches.reduce((n, b) => n + b.length, 0);

type Codec = Exclude<CompressionName, 'none'>;
const CODECS: Codec[] = ['gzip', 'snappy', 'lz4', 'zstd'];

async function timed(run: () => Promise<void>): Promise<{ ms: number; roundsMs: number[] }> {
  for (let i = 0; i < warmup; i++) await run();
  const roundsMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await run();
    roundsMs.push(performance.now() - t0);
  }
  return { ms: median(roundsMs), roundsMs: roundsMs.map((r) => Math.round(r)) };
}

interface Result {
  codec: Codec;
  ratio: number;
  compressMBs: number;
  decompressMBs: number;
}
const results: Result[] = [];
for (const codec of CODECS) {
  let compressed: Buffer[] = [];
  const c = await timed(async () => {
    compressed = [];
    for (const b of batches) compressed.push(await compress(codec, b));
  });
  const d = await timed(async () => {
    for (const b of compressed) await decompress(codec, b);
  });
  // Every codec gives back what it was given.
  for (let i = 0; i < batches.length; i++)
    if (!(await decompress(codec, compressed[i] as Buffer)).equals(batches[i] as Buffer)) throw new Error(`${codec} round trip`);
  results.push({
    codec,
    ratio: total / compressed.reduce((n, b) => n + b.length, 0),
    compressMBs: mb(total) / (c.ms / 1000),
    decompressMBs: mb(total) / (d.ms / 1000),
  });
}

const gzip = results[0] as Result;
if (values.json) {
  process.stdout.write(`${JSON.stringify({ bytes: total, batches: batches.length, results })}\n`);
} else {
  console.log(`codecs  ${await machineLine()}`);
  console.log(
    `${fmt(traces)} traces, ${fmt(mb(total), 1)} MB of OTLP protobuf in ${batches.length} batches of ~${values['batch-kb']} KB; median of ${rounds} rounds`,
  );
  console.log('codec     ratio   compress MB/s (vs gzip)   decompress MB/s (vs gzip)');
  for (const r of results) {
    console.log(
      `${r.codec.padEnd(8)} ${fmt(r.ratio, 2).padStart(6)}   ${fmt(r.compressMBs, 1).padStart(12)} (${fmt(r.compressMBs / gzip.compressMBs, 2)}x)   ` +
        `${fmt(r.decompressMBs, 1).padStart(14)} (${fmt(r.decompressMBs / gzip.decompressMBs, 2)}x)`,
    );
  }
}
