/**
 * The Kafka path against the inline path, and the Kafka writer's catch-up, in one run on the embedded store:
 *
 *   npx tsx bench/kafka.bench.ts [--baseline DIR] [--rounds 2] [--quick] [--json] [--requests 200]
 *                                [--spans-per-request 100] [--concurrency 4] [--backlog 100000]
 *                                [--brokers host:port] [--compression none|gzip] [--client kafkajs|librdkafka]
 *                                [--cpu-prof DIR] [--no-build]
 *
 * Each round, for this checkout and then (with --baseline, a built checkout of the old main) the baseline:
 * (a) steady ingest: `tracehouse start` (inline bus) and `tracehouse start --bus kafka` under the same load,
 *     each timed from the first request until every span is stored, counted back through the API's search;
 * (b) catch-up: a backlog of `--backlog` spans is put on a topic once per run (by this checkout's
 *     `receiver`, no writer running); each variant's `tracehouse writer` then drains it in a group of its
 *     own, timed from start until its written-spans metric has it all. Reported against the steady inline
 *     rate of the same variant and round (the steady ingest rate of the embedded process).
 * `--client` is this checkout's `bus.kafka.client` in `start --bus kafka` (the baseline has only kafkajs).
 * `--cpu-prof DIR` runs this checkout's catch-up writers under `node --cpu-prof` (profiles in DIR).
 * The broker is KAFKA_BROKERS / --brokers, else one started with deploy/local/kafka.sh.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { startLocalKafka } from '../test/setup/kafka.js';
import { CLI, cpuSeconds, ensureBuilt, freePort, metric, peakRss, sendAll, startProc, waitFor } from './lib/harness.js';
import { fmt, machineLine, mb } from './lib/stats.js';
import { ratioTarget, type TargetFigure } from './lib/targets.js';
import { buildWorkload, warmupOf, type Workload } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    rounds: { type: 'string' },
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    requests: { type: 'string' },
    'spans-per-request': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '4' },
    'warmup-requests': { type: 'string', default: '40' },
    backlog: { type: 'string' },
    brokers: { type: 'string' },
    compression: { type: 'string', default: 'none' },
    client: { type: 'string', default: 'kafkajs' },
    'cpu-prof': { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const rounds = Number(values.rounds ?? (quick ? 1 : 2));
const requests = Number(values.requests ?? (quick ? 100 : 200));
const backlogWanted = Number(values.backlog ?? (quick ? 40_000 : 100_000));
const concurrency = Number(values.concurrency);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const MiB = 2 ** 20;
const PROJECT = 'bench';

interface Variant {
  name: 'new' | 'base';
  cli: string;
}

type Proc = Awaited<ReturnType<typeof startProc>>;

/** `tracehouse <args>` of a given checkout (this one or the baseline), once `readyUrl` answers 200. */
const startCli = (cli: string, args: string[], readyUrl: string, nodeArgs: string[] = []): Promise<Proc> => startProc(args, readyUrl, nodeArgs, {}, cli);

function configFile(dir: string, brokers: string, topic: string, group: string): string {
  const file = join(dir, `${topic}-${group}.yaml`);
  writeFileSync(
    file,
    stringify({
      bus: {
        kind: 'kafka',
        kafka: {
          brokers: brokers.split(','),
          topics: { spans: `${topic}.spans`, logs: `${topic}.logs`, dead_letter: `${topic}.dlq` },
          writer_group: `${group}-writer`,
          evaluator_group: `${group}-evaluator`,
          partitions: 6,
          compression: values.compression,
        },
      },
      log_level: 'warn',
    }),
  );
  return file;
}

/** Pages through the API's search and sums span_count: the spans readable back. */
async function storedViaApi(api: string, fromMs: number, toMs: number): Promise<number> {
  let token: string | null = null;
  let spans = 0;
  do {
    const q = new URLSearchParams({ project: PROJECT, from: String(fromMs), to: String(toMs), max_results: '1000' });
    if (token) q.set('page_token', token);
    const res = await fetch(`${api}/api/v1/traces?${q.toString()}`);
    if (res.status !== 200) throw new Error(`search failed: HTTP ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { traces: Array<{ span_count: number }>; next_page_token: string | null };
    for (const t of page.traces) spans += t.span_count;
    token = page.next_page_token;
  } while (token);
  return spans;
}

interface Steady {
  rate: number;
  cpuPer100k: number;
  rss: number;
}

interface Round {
  variant: Variant['name'];
  round: number;
  inline: Steady;
  kafka: Steady;
  catchUp: { rate: number; seconds: number; inserts: number; cpuPer100k: number; rss: number };
}

async function main(): Promise<void> {
  ensureBuilt(!values['no-build']);
  const variants: Variant[] = [{ name: 'new', cli: CLI }];
  if (values.baseline) variants.push({ name: 'base', cli: join(resolve(values.baseline), 'dist/cli/main.js') });
  const local = values.brokers || process.env.KAFKA_BROKERS ? null : await startLocalKafka();
  const brokers = values.brokers ?? process.env.KAFKA_BROKERS ?? (local?.brokers as string);
  const dir = mkdtempSync(join(process.env.TMPDIR ?? '/tmp', 'tracehouse-kbench-'));
  const run = `kb${Date.now().toString(36)}`;
  const profDir = values['cpu-prof'] ? resolve(values['cpu-prof']) : null;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const ports = async (): Promise<string[]> => ['--http-port', String(await freePort()), '--grpc-port', String(await freePort())];
  const procs: Proc[] = [];
  const track = (p: Proc): Proc => {
    procs.push(p);
    return p;
  };
  try {
    const workload: Workload = {
      seed: 11,
      endMs: Date.now() - 60_000,
      windowMs: 10 * 60_000,
      requests,
      spansPerRequest: Number(values['spans-per-request']),
      textScale: 1,
    };
    const { bodies, spans } = buildWorkload(workload);
    const warm = buildWorkload(warmupOf(workload, Number(values['warmup-requests'])));
    const bytes = bodies.reduce((n, b) => n + b.length, 0);
    const fromMs = workload.endMs - workload.windowMs - 60_000;
    const toMs = workload.endMs + 3_600_000;
    log(`workload: ${fmt(spans)} spans in ${bodies.length} requests (${fmt(bytes / spans)} B/span), broker ${brokers}`);

    /** The same load on a fresh process; timed from the first request until the API finds every span. */
    const steady = async (v: Variant, kafkaTopic: string | null, tag: string): Promise<Steady> => {
      const api = await freePort();
      const p = await ports();
      const args = ['start', '--data-dir', join(dir, tag), ...p, '--api-port', String(api), '--log-level', 'warn'];
      if (kafkaTopic) args.push('--config', configFile(dir, brokers, kafkaTopic, kafkaTopic));
      if (kafkaTopic && v.name === 'new') args.push('--kafka-client', values.client);
      const base = `http://127.0.0.1:${api}`;
      const proc = track(await startCli(v.cli, args, `${base}/readyz`));
      const http = Number(p[1]);
      await sendAll(http, warm.bodies, 'warmup', concurrency);
      await waitFor(async () => (await metric(base, 'tracehouse_spans_written_total')) >= warm.spans, 120_000);
      const written0 = await metric(base, 'tracehouse_spans_written_total');
      const cpu0 = cpuSeconds(proc.pid);
      const t0 = performance.now();
      await sendAll(http, bodies, PROJECT, concurrency);
      await waitFor(async () => (await metric(base, 'tracehouse_spans_written_total')) - written0 >= spans, 300_000, 50);
      const ms = performance.now() - t0;
      const cpu = cpuSeconds(proc.pid) - cpu0;
      const stored = await storedViaApi(base, fromMs, toMs);
      if (stored !== spans) throw new Error(`${v.name} ${tag}: the API finds ${stored} of ${spans} spans`);
      const rss = peakRss(proc.pid);
      await proc.stop();
      rmSync(join(dir, tag), { recursive: true, force: true });
      return { rate: spans / (ms / 1000), cpuPer100k: (cpu / spans) * 100_000, rss };
    };

    // The backlog, once: this checkout's receiver alone (no writer), on a topic every catch-up drains.
    const backlogTopic = `${run}-backlog`;
    const backlogRounds = Math.max(1, Math.ceil(backlogWanted / spans));
    const rTel = await freePort();
    const rPorts = await ports();
    const receiver = track(
      await startCli(
        CLI,
        ['receiver', '--config', configFile(dir, brokers, backlogTopic, 'fill'), ...rPorts, '--telemetry-port', String(rTel)],
        `http://127.0.0.1:${rTel}/readyz`,
      ),
    );
    const fill = await sendAll(Number(rPorts[1]), Array.from({ length: backlogRounds }, () => bodies).flat(), PROJECT, concurrency);
    await receiver.stop();
    const backlog = backlogRounds * spans;
    log(`backlog: ${fmt(backlog)} spans on ${backlogTopic}.spans (receiver ${fmt(backlog / (fill.wallMs / 1000))} spans/s acked)`);

    const catchUp = async (v: Variant, group: string, r: number): Promise<Round['catchUp']> => {
      const tel = await freePort();
      const nodeArgs = profDir && v.name === 'new' ? ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', `writer-${r}.cpuprofile`] : [];
      const t0 = performance.now();
      const w = track(
        await startCli(
          v.cli,
          ['writer', '--config', configFile(dir, brokers, backlogTopic, group), '--data-dir', join(dir, group), '--telemetry-port', String(tel)],
          `http://127.0.0.1:${tel}/readyz`,
          nodeArgs,
        ),
      );
      const base = `http://127.0.0.1:${tel}`;
      const cpu0 = cpuSeconds(w.pid);
      await waitFor(async () => (await metric(base, 'tracehouse_spans_written_total')) >= backlog, 1_800_000, 100);
      const ms = performance.now() - t0;
      const cpu = cpuSeconds(w.pid) - cpu0;
      const inserts = await metric(base, 'tracehouse_write_batch_spans_count');
      const rss = peakRss(w.pid);
      await w.stop();
      rmSync(join(dir, group), { recursive: true, force: true });
      return { rate: backlog / (ms / 1000), seconds: ms / 1000, inserts, cpuPer100k: (cpu / backlog) * 100_000, rss };
    };

    const results: Round[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate which variant goes first, so drift in the machine's load does not favour one.
      const order = r % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) {
        const tag = `${run}-${v.name}-${r}`;
        const inline = await steady(v, null, `${tag}-inline`);
        const kafka = await steady(v, `${tag}-steady`, `${tag}-kafka`);
        const cu = await catchUp(v, `${tag}-catchup`, r);
        results.push({ variant: v.name, round: r, inline, kafka, catchUp: cu });
        log(
          `round ${r + 1} ${v.name}: inline ${fmt(inline.rate)} spans/s, kafka ${fmt(kafka.rate)} (${fmt(kafka.rate / inline.rate, 2)}x), catch-up ${fmt(cu.rate)} (${fmt(cu.rate / inline.rate, 2)}x inline, ${fmt(cu.inserts)} inserts)`,
        );
      }
    }

    const median = (xs: number[]): number => {
      const s = [...xs].sort((a, b) => a - b);
      const m = s.length >> 1;
      return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
    };
    const of = (name: Variant['name']): Round[] => results.filter((x) => x.variant === name);
    const summary = (name: Variant['name']) => {
      const rs = of(name);
      return {
        inline: median(rs.map((x) => x.inline.rate)),
        kafka: median(rs.map((x) => x.kafka.rate)),
        catchUp: median(rs.map((x) => x.catchUp.rate)),
        // Ratios per round (same machine state), then the median.
        pathRatio: median(rs.map((x) => x.kafka.rate / x.inline.rate)),
        catchUpRatio: median(rs.map((x) => x.catchUp.rate / x.inline.rate)),
        catchUpVsKafka: median(rs.map((x) => x.catchUp.rate / x.kafka.rate)),
      };
    };
    const now = summary('new');
    const base = values.baseline ? summary('base') : null;

    const targets: TargetFigure[] = [
      {
        ...ratioTarget(
          {
            target: '4 Kafka catch-up',
            metric: 'writer catch-up spans/s (backlog drained)',
            figure: now.catchUp,
            unit: 'spans/s',
            baseline: { label: 'steady ingest (inline, same run)', value: now.catchUp / now.catchUpRatio },
          },
          { min: 2 },
        ),
        ...(base ? { reference: { label: 'baseline catch-up spans/s (old main, same run)', value: base.catchUp } } : {}),
      },
      ratioTarget(
        {
          target: '4 Kafka path',
          metric: `start --bus kafka stored spans/s (${values.client})`,
          figure: now.kafka,
          unit: 'spans/s',
          baseline: { label: 'inline bus (same run)', value: now.kafka / now.pathRatio },
        },
        { min: 0.9 },
      ),
    ];

    if (values.json) {
      process.stdout.write(`${JSON.stringify({ targets, new: now, base, rounds: results, backlog, spansPerRun: spans })}\n`);
      return;
    }
    console.log(`kafka  ${await machineLine()}`);
    console.log(
      `${fmt(spans)} spans per steady run (${bodies.length} requests of ${workload.spansPerRequest}, ${concurrency} senders, ${fmt(mb(bytes), 1)} MB); backlog ${fmt(backlog)} spans; ${rounds} round(s); broker ${brokers}`,
    );
    for (const x of results)
      console.log(
        `  r${x.round + 1} ${x.variant.padEnd(4)}  inline ${fmt(x.inline.rate)} spans/s  kafka ${fmt(x.kafka.rate)} spans/s = ${fmt(x.kafka.rate / x.inline.rate, 2)}x  catch-up ${fmt(x.catchUp.rate)} spans/s = ${fmt(x.catchUp.rate / x.inline.rate, 2)}x inline (${fmt(x.catchUp.seconds, 1)} s, ${fmt(x.catchUp.inserts)} inserts, CPU ${fmt(x.catchUp.cpuPer100k, 1)} s/100k, RSS ${fmt(x.catchUp.rss / MiB)} MiB)`,
      );
    for (const [name, s] of [
      ['new', now],
      ['base', base],
    ] as const) {
      if (!s) continue;
      console.log(
        `  ${name.padEnd(4)} median: kafka path ${fmt(s.pathRatio, 2)}x inline; catch-up ${fmt(s.catchUpRatio, 2)}x steady inline, ${fmt(s.catchUpVsKafka, 2)}x steady kafka`,
      );
    }
    console.log('\ntargets:');
    for (const t of targets)
      console.log(
        `  ${t.met ? 'met    ' : 'MISSED '} ${t.target}: ${fmt(t.figure)} ${t.unit} (${t.goal})${t.reference ? `; ${t.reference.label} ${fmt(t.reference.value)}` : ''}`,
      );
  } finally {
    for (const p of procs) await p.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await local?.stop();
  }
}

await main();
