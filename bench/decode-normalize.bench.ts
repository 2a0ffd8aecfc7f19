/**
 * CPU cost of the per-span work the server does before the insert, on one thread, no I/O:
 *   decode            decodeTraceRequest (OTLP protobuf → model)
 *   decode+normalize  + normalizeSpan on every span
 *   decode+rows       + buildSpanRow (normalize included) + JSON.stringify of each row (the JSONEachRow body)
 *   +counters         the same with the ingest report's write-time counters (writer.ingest_report) on
 * Request bodies are generated and serialized up front (untimed). Each stage runs `--warmup` rounds, then
 * `--rounds` timed rounds over all bodies; the median round is reported as spans/s and MB/s of protobuf.
 *
 *   npx tsx bench/decode-normalize.bench.ts [--requests 100] [--spans-per-request 100] [--rounds 7] [--warmup 3]
 */
import { parseArgs } from 'node:util';
import type { SpanGroup } from '../src/component/consumer.js';
import { decodeTraceRequest } from '../src/otlp/decode.js';
import { normalizeSpan } from '../src/normalize/index.js';
import { buildSpanRow, flattenAttributes } from '../src/exporters/clickhouse/rows.js';
import { IngestCounters } from '../src/exporters/clickhouse/ingest-counters.js';
import { Metrics } from '../src/component/telemetry/metrics.js';
import { generateRequests } from './lib/genai-spans.js';
import { fmt, machineLine, mb, median } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '100' },
    'spans-per-request': { type: 'string', default: '100' },
    rounds: { type: 'string', default: '7' },
    warmup: { type: 'string', default: '3' },
    seed: { type: 'string', default: '42' },
    'text-scale': { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const requests = Number(values.requests);
const perRequest = Number(values['spans-per-request']);
const rounds = Number(values.rounds);
const warmup = Number(values.warmup);

const { bodies, spans } = generateRequests({
  seed: Number(values.seed),
  endMs: Date.now(),
  windowMs: 3_600_000,
  traces: Math.ceil((requests * perRequest) / 3),
  requests,
  spansPerRequest: perRequest,
  textScale: Number(values['text-scale']),
});
const totalBytes = bodies.reduce((n, b) => n + b.length, 0);

const counters = new IngestCounters(new Metrics());

/** A value every stage folds its output into, so the JIT cannot drop the work as dead code. */
let sink = 0;

const stages: Record<string, () => void> = {
  decode() {
    for (const body of bodies) sink += decodeTraceRequest(body, 'protobuf').resourceSpans.length;
  },
  'decode+normalize'() {
    for (const body of bodies) {
      for (const rs of decodeTraceRequest(body, 'protobuf').resourceSpans) {
        for (const ss of rs.scopeSpans) for (const span of ss.spans) sink += normalizeSpan(span, rs.resource, ss.scope).spanType.length;
      }
    }
  },
  'decode+rows+stringify'() {
    for (const body of bodies) {
      for (const rs of decodeTraceRequest(body, 'protobuf').resourceSpans) {
        const resourceAttrs = flattenAttributes(rs.resource.attributes);
        for (const ss of rs.scopeSpans) {
          const group: SpanGroup = { project: 'bench', resource: rs.resource, scope: ss.scope, spans: ss.spans };
          for (const span of ss.spans) sink += JSON.stringify(buildSpanRow(group, span, resourceAttrs)).length;
        }
      }
    }
  },
  'decode+rows+stringify+counters'() {
    for (const body of bodies) {
      for (const rs of decodeTraceRequest(body, 'protobuf').resourceSpans) {
        const resourceAttrs = flattenAttributes(rs.resource.attributes);
        for (const ss of rs.scopeSpans) {
          const group: SpanGroup = { project: 'bench', resource: rs.resource, scope: ss.scope, spans: ss.spans };
          for (const span of ss.spans) sink += JSON.stringify(buildSpanRow(group, span, resourceAttrs, counters.observe)).length;
        }
      }
      // Once per request, as the writer does once per write.
      counters.flush();
    }
  },
};

interface StageResult {
  stage: string;
  spansPerSec: number;
  mbPerSec: number;
  usPerSpan: number;
  roundsMs: number[];
}

const results: StageResult[] = [];
for (const [stage, run] of Object.entries(stages)) {
  for (let i = 0; i < warmup; i++) run();
  const roundsMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    run();
    roundsMs.push(performance.now() - t0);
  }
  const ms = median(roundsMs);
  results.push({
    stage,
    spansPerSec: spans / (ms / 1000),
    mbPerSec: mb(totalBytes) / (ms / 1000),
    usPerSpan: (ms * 1000) / spans,
    roundsMs: roundsMs.map((r) => Math.round(r * 10) / 10),
  });
}

if (values.json) {
  process.stdout.write(`${JSON.stringify({ spans, bytes: totalBytes, results, sink })}\n`);
} else {
  console.log(`decode-normalize  ${await machineLine()}`);
  console.log(
    `${requests} requests × ${perRequest} spans = ${fmt(spans)} spans, ${fmt(mb(totalBytes), 1)} MB protobuf (${fmt(totalBytes / spans)} B/span); ` +
      `${warmup} warm-up + ${rounds} timed rounds per stage, median round, one thread`,
  );
  console.log('stage                      spans/s       MB/s   µs/span   rounds (ms)');
  for (const r of results) {
    console.log(
      `${r.stage.padEnd(24)} ${fmt(r.spansPerSec).padStart(9)} ${fmt(r.mbPerSec, 1).padStart(10)} ${fmt(r.usPerSpan, 2).padStart(9)}   ${r.roundsMs.join(' ')}`,
    );
  }
  const [d, n, rows, withCounters] = results;
  if (rows && withCounters) {
    console.log(
      `the ingest report's counters add ${fmt(withCounters.usPerSpan - rows.usPerSpan, 2)} µs/span (${fmt((withCounters.usPerSpan / rows.usPerSpan - 1) * 100, 1)}% of rows+stringify)`,
    );
  }
  if (d && n && rows) {
    console.log(
      `normalize adds ${fmt(n.usPerSpan - d.usPerSpan, 2)} µs/span, rows+stringify add ${fmt(rows.usPerSpan - n.usPerSpan, 2)} µs/span over normalize ` +
        `(sink ${sink % 10})`,
    );
  }
}
