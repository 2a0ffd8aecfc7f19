import { pino } from 'pino';
import { deadlineIn } from '../../src/component/component.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../../src/api/server.js';
import { Metrics } from '../../src/component/telemetry/metrics.js';
import { Readiness } from '../../src/component/telemetry/ops.js';
import type { TraceReader } from '../../src/query/trace-reader.js';

/** A reader stand-in that fails the way the store does; the next failure is set per test. */
let failure: unknown = null;
const reader = {
  search: async () => {
    throw failure;
  },
} as unknown as TraceReader;

const server = new ApiServer({ host: '127.0.0.1', port: 0 }, reader, new Metrics(), new Readiness(), pino({ level: 'silent' }));
beforeAll(() => server.start());
afterAll(() => server.shutdown(deadlineIn(10_000)));

async function search(): Promise<{ status: number; error: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/v1/traces?project=default`);
  return { status: res.status, error: ((await res.json()) as { error: Record<string, unknown> }).error };
}

describe('API answers to store errors, by their one classification', () => {
  it('an RE2 pattern that does not compile is an invalid filter', async () => {
    failure = Object.assign(new Error('Code: 427. DB::Exception: OptimizedRegularExpression: cannot compile re2: (, error: missing ).\nmore'), { code: '427' });
    expect(await search()).toEqual({
      status: 400,
      error: {
        code: 'INVALID_FILTER',
        // Our words: the engine's text (internals, unbounded) stays in the cause for the logs.
        message: 'invalid regular expression: RE2 cannot compile a pattern of the filter',
        expected: 'an RE2 regular expression',
      },
    });
  });

  it('an unreachable store is unavailable', async () => {
    failure = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
    expect(await search()).toEqual({ status: 503, error: { code: 'UNAVAILABLE', message: 'store unavailable: connect ECONNREFUSED 127.0.0.1:8123' } });
  });

  it('anything else is internal, without details', async () => {
    failure = Object.assign(new Error('Cannot parse input'), { code: '27' });
    expect(await search()).toEqual({ status: 500, error: { code: 'INTERNAL', message: 'internal error' } });
    failure = new TypeError('x is undefined');
    expect(await search()).toEqual({ status: 500, error: { code: 'INTERNAL', message: 'internal error' } });
  });
});
