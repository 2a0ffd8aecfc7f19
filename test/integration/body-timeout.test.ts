import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

/** A slow upload cannot hold memory for ever: past receivers.body_timeout_ms it is answered 408 and closed. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ overrides: { 'receivers.body_timeout_ms': 500 } });
});
afterAll(async () => {
  await t?.stop();
});

async function budgetInUse(): Promise<number> {
  const text = await (await fetch(`${t.api}/metrics`)).text();
  const m = /^tracehouse_memory_budget_used_bytes (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('body timeout', () => {
  it('answers a stalled upload 408, closes its connection and releases its bytes', async () => {
    const socket = connect(Number(new URL(t.otlpHttp).port), '127.0.0.1');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 2097152\r\n\r\n');
    socket.write(Buffer.alloc(64 * 1024));
    // The server closes the connection itself; the test only waits for that (vitest's timeout is the deadline).
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    const end = Date.now() + 60_000;
    while ((await budgetInUse()) !== 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    expect(await budgetInUse()).toBe(0);
  });
});
