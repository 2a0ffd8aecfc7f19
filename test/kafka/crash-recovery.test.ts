import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openStore } from '../../src/exporters/clickhouse/client.js';
import { freePort } from '../setup/kafka.js';
import { removeDir } from '../helpers/app.js';
import { isolatedKafka, waitForGroupCaughtUp } from '../helpers/kafka.js';
import { configYaml, startRole, type RoleProcess } from '../helpers/processes.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';

const brokers = inject('kafkaBrokers');

/** Turns the flat overrides of isolatedKafka into a YAML config tree for the child processes. */
function configFile(dir: string, overrides: Record<string, unknown>): string {
  const file = join(dir, 'tracehouse.yaml');
  writeFileSync(file, configYaml(overrides));
  return file;
}

const procs: RoleProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  for (const d of dirs) removeDir(d);
});

describe.skipIf(!brokers)('writer crash', () => {
  it('loses no acknowledged span and stores none twice when the writer is SIGKILLed mid-stream', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracehouse-crash-'));
    dirs.push(dir);
    const bus = isolatedKafka(brokers, { log_level: 'warn', 'writer.batch_max_spans': 300 });
    const config = configFile(dir, bus);
    const dataDir = join(dir, 'chdb');
    const httpPort = await freePort();

    const receiver = await startRole([
      'receiver',
      '--config',
      config,
      '--http-port',
      String(httpPort),
      '--grpc-port',
      String(await freePort()),
      '--telemetry-port',
      String(await freePort()),
    ]);
    procs.push(receiver);
    const writerArgs = async (): Promise<string[]> => ['writer', '--config', config, '--data-dir', dataDir, '--telemetry-port', String(await freePort())];
    let writer = await startRole(await writerArgs());
    procs.push(writer);

    // 600 traces of 3 spans, 5 traces per request, 4 senders.
    const requests = Array.from({ length: 120 }, (_, r) => Array.from({ length: 5 }, (_, k) => syntheticTrace(r * 5 + k)));
    const acked = new Set<string>();
    let next = 0;
    let killedAt = -1;
    const send = async (): Promise<void> => {
      while (next < requests.length) {
        const batch = requests[next++] as ReturnType<typeof syntheticTrace>[];
        const res = await fetch(`http://127.0.0.1:${httpPort}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf', 'x-tracehouse-project': 'crash' },
          body: protobufBody(batch.flatMap((t) => t.spans)),
        });
        if (res.status === 200) for (const t of batch) acked.add(t.traceId);
        if (acked.size >= 200 && killedAt < 0) {
          killedAt = acked.size;
          writer.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all([send(), send(), send(), send()]);
    expect(killedAt).toBeGreaterThan(0);
    expect(await writer.exited).toBeNull(); // killed by a signal

    writer = await startRole(await writerArgs());
    procs.push(writer);
    await waitForGroupCaughtUp(brokers, bus['bus.kafka.writer_group'] as string, [bus['bus.kafka.topics.spans'] as string], 120_000);
    writer.child.kill('SIGTERM');
    expect(await writer.exited).toBe(0);
    receiver.child.kill('SIGTERM');
    expect(await receiver.exited).toBe(0);

    const store = await openStore(loadConfig({ env: {}, overrides: { 'store.path': dataDir } }).store);
    try {
      const q = async (sql: string): Promise<Array<Record<string, string>>> =>
        (await store.reader.query({ query: sql, query_params: { p: 'crash' }, format: 'JSONEachRow' })).json();
      const stored = await q(
        `SELECT trace_id, count() AS spans FROM (SELECT trace_id, span_id FROM spans WHERE project = {p:String} LIMIT 1 BY trace_id, span_id) GROUP BY trace_id`,
      );
      const storedIds = new Set(stored.map((r) => r.trace_id));
      for (const id of acked) expect(storedIds.has(id), `acknowledged trace ${id} missing`).toBe(true);
      for (const r of stored) expect(Number(r.spans)).toBe(3);
      // What the API lists: one summary row per trace.
      const listed = await q(
        `SELECT count() AS n, uniqExact(trace_id) AS u FROM (SELECT trace_id FROM traces WHERE project = {p:String} ORDER BY trace_id, version DESC LIMIT 1 BY trace_id)`,
      );
      expect(listed[0]).toEqual({ n: String(stored.length), u: String(stored.length) });
      expect(acked.size).toBe(600);
    } finally {
      await store.close();
    }
  });
});
