import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir } from '../helpers/app.js';
import { startRole, type RoleProcess } from '../helpers/processes.js';
import { freePort } from '../setup/kafka.js';
import type { TraceDetailView, TraceInfoView } from '../../src/api/views.js';

/**
 * All or nothing per request across a crash: `tracehouse start` on chDB takes large concurrent requests
 * and is SIGKILLed at a random moment, several times. After each restart every acknowledged span is
 * there exactly once, every request that was not acknowledged is there entirely (found by id and in the
 * search list) or not at all, and sending it again completes it. Assertions are on the state found after
 * each restart, never on durations; the kill points are random on purpose.
 */
const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 4);
const SENDERS = 6;
const SPANS_PER_REQUEST = 120;
const PAYLOAD = 3000;

const dataDir = mkdtempSync(join(tmpdir(), 'tracehouse-crash-'));
let child: RoleProcess | null = null;
afterAll(() => {
  child?.child.kill('SIGKILL');
  removeDir(dataDir);
});

interface Sent {
  traceId: string;
  body: Buffer;
  state: 'pending' | 'acked' | 'failed';
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** One request: one trace (a root and its children), each span with a few KB of attribute text. */
function request(round: number, i: number): Sent {
  const traceId = `c${hex(round, 3)}${hex(i, 28)}`;
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = Array.from({ length: SPANS_PER_REQUEST }, (_, s) => ({
    traceId,
    spanId: hex(s + 1, 16),
    parentSpanId: s === 0 ? '' : hex(1, 16),
    name: s === 0 ? 'root' : `child-${s}`,
    kind: 1,
    startTimeUnixNano: String(now + BigInt(s)),
    endTimeUnixNano: String(now + 1_000_000n),
    attributes: [{ key: 'payload', value: { stringValue: `${traceId}:${s}:`.padEnd(PAYLOAD, 'p') } }],
  }));
  const body = {
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'crash' } }] }, scopeSpans: [{ scope: { name: 't' }, spans }] }],
  };
  return { traceId, body: Buffer.from(JSON.stringify(body)), state: 'pending' };
}

async function post(port: number, body: Buffer): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tracehouse-project': 'crash' },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0; // the connection died with the process
  }
}

/** What the API shows of a trace: its distinct span ids and how many spans it listed (null: not found). */
async function detail(api: number, traceId: string): Promise<{ spans: number; distinct: number } | null> {
  const res = await fetch(`http://127.0.0.1:${api}/api/v1/traces/${traceId}?project=crash`);
  if (res.status === 404) return null;
  expect(res.status).toBe(200);
  const body = (await res.json()) as TraceDetailView;
  return { spans: body.spans.length, distinct: new Set(body.spans.map((s) => s.span_id)).size };
}

/** Every trace the search lists for the project, by id. */
async function listed(api: number): Promise<Map<string, TraceInfoView>> {
  const out = new Map<string, TraceInfoView>();
  let token: string | null = null;
  do {
    const url = `http://127.0.0.1:${api}/api/v1/traces?project=crash&max_results=1000${token ? `&page_token=${token}` : ''}`;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { traces: TraceInfoView[]; next_page_token: string | null };
    for (const t of body.traces) out.set(t.trace_id, t);
    token = body.next_page_token;
  } while (token);
  return out;
}

async function start(ports: { http: number; api: number }): Promise<RoleProcess> {
  return startRole(
    [
      'start',
      '--data-dir',
      dataDir,
      '--grpc-enabled',
      'false',
      '--http-host',
      '127.0.0.1',
      '--http-port',
      String(ports.http),
      '--api-host',
      '127.0.0.1',
      '--api-port',
      String(ports.api),
      // Small inserts: a write becomes several statements, so kills land between them.
      '--batch-max-bytes',
      String(64 * 1024),
      '--log-level',
      'warn',
    ],
    {},
    120_000,
  );
}

/** Checks the state after a restart; returns the requests to send again. */
async function check(api: number, all: readonly Sent[]): Promise<{ incomplete: Sent[]; absent: number; present: number }> {
  const list = await listed(api);
  const incomplete: Sent[] = [];
  let absent = 0;
  let present = 0;
  for (const s of all) {
    const d = await detail(api, s.traceId);
    const row = list.get(s.traceId);
    if (s.state === 'acked') {
      expect(d, `acknowledged trace ${s.traceId}`).toEqual({ spans: SPANS_PER_REQUEST, distinct: SPANS_PER_REQUEST });
      expect(row?.span_count, `acknowledged trace ${s.traceId} in the search list`).toBe(SPANS_PER_REQUEST);
      expect(row?.state).toBe('OK');
      continue;
    }
    if (d === null) {
      // Absent means absent everywhere: no summary row without spans either.
      expect(row, `trace ${s.traceId} listed without spans`).toBeUndefined();
      absent++;
    } else {
      expect(d, `un-acknowledged trace ${s.traceId} half-written`).toEqual({ spans: SPANS_PER_REQUEST, distinct: SPANS_PER_REQUEST });
      expect(row?.span_count, `un-acknowledged trace ${s.traceId} in the search list`).toBe(SPANS_PER_REQUEST);
      expect(row?.state).toBe('OK');
      present++;
    }
    incomplete.push(s);
  }
  return { incomplete, absent, present };
}

describe('crash atomicity', () => {
  it('leaves every request entirely written or not at all across repeated SIGKILLs', async () => {
    const ports = { http: await freePort(), api: await freePort() };
    const all: Sent[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      child = await start(ports);
      let next = 0;
      let stop = false;
      // Senders keep large requests in flight until the kill.
      const senders = Array.from({ length: SENDERS }, async () => {
        while (!stop) {
          const s = request(round, next++);
          all.push(s);
          const code = await post(ports.http, s.body);
          if (stop && code !== 200) break;
          s.state = code === 200 ? 'acked' : 'failed';
        }
      });
      // Kill at a random moment once some requests have been acknowledged.
      const acks = (): number => all.filter((s) => s.state === 'acked').length;
      const before = acks();
      const target = before + 1 + Math.floor(Math.random() * 8);
      const deadline = Date.now() + 120_000;
      while (acks() < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)));
      stop = true;
      child.child.kill('SIGKILL');
      await child.exited;
      await Promise.all(senders);

      child = await start(ports);
      const { incomplete, absent, present } = await check(ports.api, all);
      if (process.env.CRASH_VERBOSE) console.log(`round ${round}: ${all.length} requests, un-acknowledged: ${absent} absent, ${present} present`);
      // A retry completes every request that was not acknowledged.
      for (const s of incomplete) {
        expect(await post(ports.http, s.body)).toBe(200);
        s.state = 'acked';
      }
      await check(ports.api, all);
      child.child.kill('SIGTERM');
      await child.exited;
      child = null;
    }
    expect(all.filter((s) => s.state === 'acked').length).toBe(all.length);
  }, 900_000);
});
