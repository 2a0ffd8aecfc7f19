import { connect, type Socket } from 'node:net';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, startTestApp, type TestApp } from '../helpers/app.js';
import { grpcExport } from '../helpers/grpc.js';
import type { TraceInfoView } from '../../src/api/views.js';

/**
 * The memory budget over real sockets: requests past it are answered 503 while what holds the budget is
 * still held (so at once, not after waiting), and the bytes come back when those requests end.
 */
const MiB = 1024 * 1024;
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    overrides: {
      'receivers.memory_budget_bytes': 4 * MiB,
      'receivers.max_body_bytes': 8 * MiB,
      'receivers.max_concurrent_uploads': 3,
      // Long enough that no upload of this file times out: the timeout has its own file (body-timeout.test.ts).
      'receivers.body_timeout_ms': 600_000,
    },
  });
});
afterAll(async () => {
  await t?.stop();
});

const port = (): number => Number(new URL(t.otlpHttp).port);

/** An OTLP/JSON request of one span carrying `bytes` of attribute text. */
function otlpJson(traceId: string, bytes: number): Buffer {
  const now = BigInt(Date.now()) * 1_000_000n;
  return Buffer.from(
    JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'budget' } }] },
          scopeSpans: [
            {
              scope: { name: 't' },
              spans: [
                {
                  traceId,
                  spanId: '00000000000000a1',
                  name: 'big',
                  kind: 1,
                  startTimeUnixNano: String(now),
                  endTimeUnixNano: String(now + 1000n),
                  attributes: [{ key: 'payload', value: { stringValue: 'x'.repeat(bytes) } }],
                },
              ],
            },
          ],
        },
      ],
    }),
  );
}

const post = (body: Buffer, project = 'budget'): Promise<Response> =>
  fetch(`${t.otlpHttp}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tracehouse-project': project, connection: 'close' },
    body,
  });

/** The budget in use, as /metrics shows it. */
async function budgetInUse(): Promise<number> {
  const text = await (await fetch(`${t.api}/metrics`)).text();
  const m = /^tracehouse_memory_budget_used_bytes (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

async function until(cond: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const end = Date.now() + 60_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** An upload that declares `length` bytes, sends `sent` of them and stalls; collects what the server answers. */
function stalledUpload(length: number, sent: number): { socket: Socket; answer: () => string; closed: Promise<void> } {
  const socket = connect(port(), '127.0.0.1');
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nx-tracehouse-project: budget\r\n\r\n`);
  socket.write(Buffer.alloc(sent, 0x20));
  return { socket, answer: () => answer, closed };
}

describe('memory budget', () => {
  it('answers 503 with Retry-After at once while the budget is held, and serves again once it is released', async () => {
    const holder = stalledUpload(3 * MiB, 1024);
    await until(async () => (await budgetInUse()) >= 3 * MiB, 'the stalled upload holds its declared length');

    const refused = await post(otlpJson('b0000000000000000000000000000001', 2 * MiB));
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.text()).toContain('memory budget');
    // Answered while the upload holding the budget is still open: the request did not wait for memory.
    expect(holder.socket.destroyed).toBe(false);
    expect(holder.answer()).toBe('');

    holder.socket.destroy();
    await holder.closed;
    await until(async () => (await budgetInUse()) === 0, 'the aborted upload gives its bytes back');

    const ok = await post(otlpJson('b0000000000000000000000000000002', 1 * MiB));
    expect(ok.status).toBe(200);
    await until(async () => (await budgetInUse()) === 0, 'the answered request gives its bytes back');
    const { body } = await getJson<{ traces: TraceInfoView[] }>(`${t.api}/api/v1/traces?project=budget`);
    expect(body.traces.map((x) => x.trace_id)).toContain('b0000000000000000000000000000002');
  });

  it('refuses a gRPC request as UNAVAILABLE while the budget is held', async () => {
    const holder = stalledUpload(3 * MiB, 1024);
    await until(async () => (await budgetInUse()) >= 3 * MiB, 'the stalled upload holds its declared length');
    // Any bytes will do: the budget is checked before the body is decoded.
    const { err } = await grpcExport(t.otlpGrpc, 'traces', Buffer.alloc(2 * MiB));
    expect(err?.code).toBe(status.UNAVAILABLE);
    expect(err?.details).toContain('memory budget');
    holder.socket.destroy();
    await holder.closed;
    await until(async () => (await budgetInUse()) === 0, 'the budget is free again');
  });

  it('answers 503 at once past max_concurrent_uploads', async () => {
    const uploads = [stalledUpload(1000, 10), stalledUpload(1000, 10), stalledUpload(1000, 10)];
    await until(async () => (await budgetInUse()) === 3000, 'three uploads are being read');
    const refused = await post(otlpJson('b0000000000000000000000000000003', 100));
    expect(refused.status).toBe(503);
    expect(await refused.text()).toContain('request bodies are being read');
    for (const u of uploads) u.socket.destroy();
    await Promise.all(uploads.map((u) => u.closed));
    await until(async () => (await budgetInUse()) === 0, 'the budget is free again');
    expect((await post(otlpJson('b0000000000000000000000000000004', 100))).status).toBe(200);
  });
});
