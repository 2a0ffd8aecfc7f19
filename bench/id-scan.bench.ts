/**
 * What the Kafka evaluator source pays per spans-topic message to learn span ids, on one thread, no I/O:
 *   decode  decodeBusMessage (full decode + validate of the OTLP request), what it did before
 *   scan    scanBusSpanIds (the id-only wire scan), what it does now
 * on two kinds of messages, generated up front (untimed):
 *   producer   what our receivers put on the topic: one message per trace, with the project header
 *   collector  what a Collector's Kafka exporter puts there: a whole SDK request (many traces), no header,
 *              so the project comes from the resource attribute
 * Rounds alternate decode and scan (`--warmup`, then `--rounds` timed rounds over all messages each) so
 * machine noise hits both alike; the median round is reported as µs/message, and decode ÷ scan.
 *
 *   npx tsx bench/id-scan.bench.ts [--requests 100] [--spans-per-request 100] [--rounds 9] [--warmup 3] [--json]
 */
import { parseArgs } from 'node:util';
import type { SpanGroup } from '../src/component/consumer.js';
import { decodeBusMessage, scanBusSpanIds, type RawHeaders } from '../src/bus/kafka/decode-message.js';
import { spanMessages } from '../src/bus/kafka/messages.js';
import { decodeTraceRequest } from '../src/otlp/decode.js';
import { buildWorkload } from './lib/workload.js';
import { fmt, machineLine, median } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '100' },
    'spans-per-request': { type: 'string', default: '100' },
    rounds: { type: 'string', default: '9' },
    warmup: { type: 'string', default: '3' },
    seed: { type: 'string', default: '42' },
    'text-scale': { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const warmup = Number(values.warmup);

const { bodies } = buildWorkload({
  seed: Number(values.seed),
  endMs: Date.now(),
  windowMs: 3_600_000,
  requests: Number(values.requests),
  spansPerRequest: Number(values['spans-per-request']),
  textScale: Number(values['text-scale']),
});

interface Message {
  value: Buffer;
  headers: RawHeaders;
}
// The project attribute a Collector-fed deployment would set on its resources; the generator sets none.
const collector: Message[] = bodies.map((value) => ({ value, headers: {} }));
const producer: Message[] = [];
for (const body of bodies) {
  const groups: SpanGroup[] = [];
  for (const rs of decodeTraceRequest(body, 'protobuf').resourceSpans) {
    for (const ss of rs.scopeSpans) groups.push({ project: 'bench', resource: rs.resource, scope: ss.scope, spans: ss.spans });
  }
  for (const m of spanMessages(groups, 1_000_000).messages) producer.push({ value: m.value, headers: m.headers });
}

/** A value both readers fold their output into, so the JIT cannot drop the work as dead code. */
let sink = 0;
const readers = {
  decode(msgs: readonly Message[]): void {
    for (const m of msgs) for (const g of decodeBusMessage('spans', m.value, m.headers).spans) sink += g.spans.length;
  },
  scan(msgs: readonly Message[]): void {
    for (const m of msgs) for (const g of scanBusSpanIds(m.value, m.headers)) sink += g.spans.length;
  },
};

interface SetResult {
  set: string;
  messages: number;
  spans: number;
  bytesPerMessage: number;
  decodeUsPerMessage: number;
  scanUsPerMessage: number;
  ratio: number;
  roundsMs: { decode: number[]; scan: number[] };
}

function spansIn(msgs: readonly Message[]): number {
  let n = 0;
  for (const m of msgs) for (const g of scanBusSpanIds(m.value, m.headers)) n += g.spans.length;
  return n;
}

const results: SetResult[] = [];
for (const [set, msgs] of [
  ['producer', producer],
  ['collector', collector],
] as const) {
  const ms = { decode: [] as number[], scan: [] as number[] };
  for (let i = 0; i < warmup + rounds; i++) {
    for (const name of i % 2 === 0 ? (['decode', 'scan'] as const) : (['scan', 'decode'] as const)) {
      const t0 = performance.now();
      readers[name](msgs);
      if (i >= warmup) ms[name].push(performance.now() - t0);
    }
  }
  const decodeUs = (median(ms.decode) * 1000) / msgs.length;
  const scanUs = (median(ms.scan) * 1000) / msgs.length;
  results.push({
    set,
    messages: msgs.length,
    spans: spansIn(msgs),
    bytesPerMessage: msgs.reduce((n, m) => n + m.value.length, 0) / msgs.length,
    decodeUsPerMessage: decodeUs,
    scanUsPerMessage: scanUs,
    ratio: decodeUs / scanUs,
    roundsMs: { decode: ms.decode.map((r) => Math.round(r * 10) / 10), scan: ms.scan.map((r) => Math.round(r * 10) / 10) },
  });
}

if (values.json) {
  process.stdout.write(`${JSON.stringify({ results, sink })}\n`);
} else {
  console.log(`id-scan  ${await machineLine()}`);
  console.log(`${warmup} warm-up + ${rounds} timed rounds, decode and scan alternating, median round, one thread`);
  console.log('messages    count    spans   B/msg   decode µs/msg   scan µs/msg   decode ÷ scan');
  for (const r of results) {
    console.log(
      `${r.set.padEnd(10)} ${fmt(r.messages).padStart(6)} ${fmt(r.spans).padStart(8)} ${fmt(r.bytesPerMessage).padStart(7)} ` +
        `${fmt(r.decodeUsPerMessage, 1).padStart(15)} ${fmt(r.scanUsPerMessage, 2).padStart(13)} ${fmt(r.ratio, 1).padStart(14)}x`,
    );
  }
  console.log(`(sink ${sink % 10})`);
}
