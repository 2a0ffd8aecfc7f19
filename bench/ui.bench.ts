/**
 * The web UI in headless Chromium (Debian's chromium through playwright-core) against the product started
 * in-process on a fresh embedded store, loaded over OTLP/HTTP with `--traces` (default 300) small traces
 * and one trace of `--spans` (default 5,000) spans. `--runs` times (fresh page each, after one warm-up):
 *   list   navigation to /traces → 100 rows rendered
 *   trace  navigation to /traces/<id> of the big trace → span tree and selected span rendered, and then
 *          answering a key press (ArrowDown moves the selection) — "interactive"
 *   key    one ArrowDown in the big trace's tree → the next span's detail shown
 * and, for scale, the API alone answering the list's search and the big trace's detail (fetch from Node).
 * reporting median and max wall ms. Needs `npm run build:ui` first (dist/ui).
 *
 *   npx tsx bench/ui.bench.ts [--traces 300] [--spans 5000] [--runs 5] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/component/telemetry/logger.js';
import { Service } from '../src/service/service.js';
import { launchChromium } from '../test/helpers/browser.js';
import { fmt, machineLine, median } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    traces: { type: 'string', default: '300' },
    spans: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const TRACES = Number(values.traces);
const SPANS = Number(values.spans);
const RUNS = Number(values.runs);
const PROJECT = 'bench-ui';

const hex = (n: number, len: number): string => n.toString(16).padStart(len, '0').slice(-len);
const kv = (key: string, v: string) => ({ key, value: { stringValue: v } });

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<ReturnType<typeof kv>>;
  status: { code: number };
}

function llmSpan(traceId: string, spanId: string, parent: string | undefined, startNs: bigint, i: number): JsonSpan {
  return {
    traceId,
    spanId,
    ...(parent ? { parentSpanId: parent } : {}),
    name: `chat gpt-4o-mini ${i}`,
    kind: 3,
    startTimeUnixNano: startNs.toString(),
    endTimeUnixNano: (startNs + 2_000_000n).toString(),
    attributes: [
      kv('gen_ai.operation.name', 'chat'),
      kv('gen_ai.request.model', 'gpt-4o-mini'),
      kv('gen_ai.input.messages', JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `question ${i}: what is the status of ticket #${i}?` }] }])),
      kv('gen_ai.output.messages', JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: `Ticket #${i} is resolved.` }] }])),
    ],
    status: { code: 1 },
  };
}

/** One big trace: a root, 50 agent steps, the rest LLM calls under them. */
function bigTrace(nowNs: bigint): { traceId: string; spans: JsonSpan[] } {
  const traceId = hex(0xb1, 32);
  const root = hex(1, 16);
  const spans: JsonSpan[] = [
    {
      traceId,
      spanId: root,
      name: 'agent run',
      kind: 1,
      startTimeUnixNano: nowNs.toString(),
      endTimeUnixNano: (nowNs + BigInt(SPANS) * 2_000_000n).toString(),
      attributes: [kv('gen_ai.operation.name', 'invoke_agent')],
      status: { code: 1 },
    },
  ];
  const steps = 50;
  for (let s = 0; s < steps; s++) {
    spans.push({
      traceId,
      spanId: hex(2 + s, 16),
      parentSpanId: root,
      name: `step ${s}`,
      kind: 1,
      startTimeUnixNano: (nowNs + BigInt(s) * 1_000_000n).toString(),
      endTimeUnixNano: (nowNs + BigInt(SPANS) * 2_000_000n).toString(),
      attributes: [],
      status: { code: 1 },
    });
  }
  for (let i = spans.length; i < SPANS; i++) spans.push(llmSpan(traceId, hex(0x10000 + i, 16), hex(2 + (i % steps), 16), nowNs + BigInt(i) * 1_000_000n, i));
  return { traceId, spans };
}

async function send(api: string, spans: JsonSpan[]): Promise<void> {
  for (let i = 0; i < spans.length; i += 1000) {
    const body = JSON.stringify({
      resourceSpans: [{ resource: { attributes: [kv('service.name', 'bench')] }, scopeSpans: [{ scope: { name: 'bench' }, spans: spans.slice(i, i + 1000) }] }],
    });
    const r = await fetch(`${api}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tracehouse-project': PROJECT }, body });
    if (r.status !== 200) throw new Error(`OTLP answered ${r.status}: ${await r.text()}`);
  }
}

async function until(what: string, f: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'tracehouse-ui-bench-'));
const config = loadConfig({
  env: {},
  overrides: {
    'store.path': dataDir,
    'receivers.grpc.enabled': false,
    'receivers.http.host': '127.0.0.1',
    'receivers.http.port': 0,
    'api.host': '127.0.0.1',
    'api.port': 0,
    'telemetry.port': 0,
    log_level: 'silent',
  },
});
const app = await Service.start(config, createLogger('silent'));
const otlp = `http://127.0.0.1:${app.ports.http}`;
const api = `http://127.0.0.1:${app.ports.api}`;
const browser = await launchChromium();
try {
  const nowNs = BigInt(Date.now() - 60_000) * 1_000_000n;
  const small: JsonSpan[] = [];
  for (let t = 0; t < TRACES; t++) {
    const traceId = hex(0x1000 + t, 32);
    small.push({ ...llmSpan(traceId, hex(t + 1, 16), undefined, nowNs + BigInt(t) * 10_000_000n, t), name: `request ${t}` });
  }
  const big = bigTrace(nowNs);
  process.stderr.write(`loading ${TRACES} traces and one of ${SPANS} spans…\n`);
  await send(otlp, small);
  await send(otlp, big.spans);
  await until('the big trace stored', async () => {
    const r = await fetch(`${api}/api/v1/traces/${big.traceId}?project=${PROJECT}`);
    return r.ok && ((await r.json()) as { spans: unknown[] }).spans.length === SPANS;
  });

  const list: number[] = [];
  const trace: number[] = [];
  const key: number[] = [];
  const apiList: number[] = [];
  const apiTrace: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    let t0 = performance.now();
    await page.goto(`${api}/traces?project=${PROJECT}&range=24h`);
    await page.locator('[data-testid=traces] tbody tr').nth(99).waitFor();
    const tList = performance.now() - t0;

    t0 = performance.now();
    await page.goto(`${api}/traces/${big.traceId}?project=${PROJECT}`);
    const tree = page.getByTestId('span-tree');
    await page.getByTestId('span-detail').waitFor();
    await tree.focus();
    const first = await page.locator('.span-row.sel').getAttribute('data-span-id');
    await page.keyboard.press('ArrowDown');
    await page.locator(`.span-row.sel:not([data-span-id="${first}"])`).waitFor();
    const tTrace = performance.now() - t0;

    const before = await page.locator('.span-row.sel').getAttribute('data-span-id');
    t0 = performance.now();
    await page.keyboard.press('ArrowDown');
    await page.locator(`.span-row.sel:not([data-span-id="${before}"])`).waitFor();
    const tKey = performance.now() - t0;
    await page.close();
    t0 = performance.now();
    await (await fetch(`${api}/api/v1/traces?project=${PROJECT}&max_results=100&from=${Date.now() - 86_400_000}`)).json();
    const tApiList = performance.now() - t0;
    t0 = performance.now();
    await (await fetch(`${api}/api/v1/traces/${big.traceId}?project=${PROJECT}`)).json();
    const tApiTrace = performance.now() - t0;
    if (run === 0) continue; // warm-up: the first navigation also pays the store's and Chromium's cold start
    list.push(tList);
    trace.push(tTrace);
    key.push(tKey);
    apiList.push(tApiList);
    apiTrace.push(tApiTrace);
    process.stderr.write(`run ${run}: list ${fmt(tList)} ms, trace ${fmt(tTrace)} ms, key ${fmt(tKey)} ms\n`);
  }
  const result = {
    list_100_ms: { median: median(list), max: Math.max(...list) },
    trace_interactive_ms: { spans: SPANS, median: median(trace), max: Math.max(...trace) },
    key_ms: { median: median(key), max: Math.max(...key) },
    api_list_ms: { median: median(apiList) },
    api_trace_ms: { median: median(apiTrace) },
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(await machineLine());
    console.log(`navigation → 100 traces rendered:               median ${fmt(result.list_100_ms.median)} ms, max ${fmt(result.list_100_ms.max)} ms`);
    console.log(
      `navigation → ${SPANS}-span trace interactive:     median ${fmt(result.trace_interactive_ms.median)} ms, max ${fmt(result.trace_interactive_ms.max)} ms`,
    );
    console.log(`  of which the API alone: search ${fmt(result.api_list_ms.median)} ms, trace detail ${fmt(result.api_trace_ms.median)} ms (median)`);
    console.log(`ArrowDown → next span shown (${SPANS} spans):     median ${fmt(result.key_ms.median)} ms, max ${fmt(result.key_ms.max)} ms`);
  }
} finally {
  await browser.close();
  await app.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
}
