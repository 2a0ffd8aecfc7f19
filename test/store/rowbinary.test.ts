import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openStore, type Store } from '../../src/exporters/clickhouse/client.js';
import { insertRows } from '../../src/exporters/clickhouse/insert.js';
import { migrate } from '../../src/exporters/clickhouse/migrate.js';
import {
  EVENTS_ROWBINARY,
  RowBinaryBuffer,
  SPANS_ROWBINARY,
  TRACES_ROWBINARY,
  encodeChunks,
  type RowBinaryTable,
} from '../../src/exporters/clickhouse/rowbinary.js';
import type { EventRow, SpanRow, TraceRow } from '../../src/exporters/clickhouse/tables.js';
import { removeDir } from '../helpers/app.js';

/**
 * The RowBinary encoders against JSONEachRow, the format the engine's own parser defines: the same rows
 * inserted both ways (under two projects) read back identical, column by column, for unicode, empty and
 * huge strings, NULLs, maps and nanosecond times past 2^53.
 */
let store: Store;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tracehouse-rowbinary-'));
  store = await openStore(loadConfig({ env: {}, overrides: { 'store.path': join(dir, 'chdb') } }).store);
  await migrate(store.writer);
}, 120_000);

afterAll(async () => {
  await store?.close();
  removeDir(dir);
});

const HUGE = 'x'.repeat(300_000) + 'é'.repeat(70_000);
const UNICODE = 'héllo wörld — 日本語 🤖 \u0000 tab\t nl\n quote" back\\ \u2028';

function spanRow(project: string, i: number): SpanRow {
  return {
    project,
    trace_id: `t${i % 3}`,
    span_id: `s${i}`,
    parent_span_id: i === 0 ? '' : 's0',
    name: i === 1 ? UNICODE : `span-${i}`,
    kind: 'INTERNAL',
    span_type: 'LLM',
    start_time_ns: i === 2 ? '18446744073709551615' : String(1_764_000_000_000_000_000n + BigInt(i)),
    end_time_ns: i === 2 ? '0' : '1764000000123456789',
    status_code: i === 3 ? 'ERROR' : 'OK',
    status_message: i === 3 ? UNICODE : '',
    service_name: 'svc',
    scope_name: '',
    scope_version: '',
    model: i % 2 ? 'gpt-4o' : '',
    provider: 'openai',
    input_tokens: i % 2 ? null : 12345,
    output_tokens: i === 4 ? 2 ** 53 - 1 : null,
    total_tokens: 0,
    cache_read_tokens: null,
    reasoning_tokens: i,
    cost: i % 2 ? null : 0.000123,
    session_id: 'sess',
    user_id: '',
    inputs: i === 5 ? HUGE : JSON.stringify({ messages: [{ role: 'user', content: UNICODE }] }),
    outputs: '',
    documents: '',
    tool_name: '',
    tool_arguments: '',
    tool_result: '',
    tags: i % 2 ? {} : { a: '1', ключ: UNICODE },
    metadata: {},
    attributes: { 'gen_ai.system': 'openai', big: i === 6 ? HUGE : 'v', empty: '' },
    resource_attributes: { 'service.name': 'svc' },
    events: '',
    links: i === 7 ? '[{"trace_id":"a","span_id":"b","attributes":{}}]' : '',
  };
}

const traceRow = (project: string, i: number): TraceRow => ({
  project,
  trace_id: `t${i}`,
  version: i % 2 ? 1 : 2,
  request_time_ns: String(1_764_000_000_999_999_999n + BigInt(i)),
  execution_duration_ns: i ? '123' : '0',
  state: i % 2 ? 'IN_PROGRESS' : 'OK',
  name: UNICODE,
  root_span_id: i % 2 ? '' : 's0',
  service_name: 'svc',
  request_preview: i === 1 ? HUGE : 'hi',
  response_preview: '',
});

const eventRow = (project: string, i: number): EventRow => ({
  project,
  trace_id: 't0',
  span_id: `s${i}`,
  time_ns: String(1_764_000_000_000_000_001n + BigInt(i)),
  event_id: `e${i}`,
  event_name: 'gen_ai.user.message',
  severity_number: i === 0 ? 255 : 9,
  severity_text: i ? 'INFO' : '',
  service_name: 'svc',
  body: i === 1 ? '' : JSON.stringify({ content: UNICODE }),
  attributes: { k: UNICODE },
  resource_attributes: {},
});

async function insertBinary<R>(table: string, shape: RowBinaryTable<R>, rows: readonly R[], limit = 1 << 30): Promise<number> {
  const pieces = encodeChunks(shape, rows, limit);
  for (const [i, bytes] of pieces.entries()) {
    const file = join(dir, `${table}-${i}.bin`);
    writeFileSync(file, bytes);
    await store.writer.command({
      query: `INSERT INTO ${table} (${shape.columns.join(', ')}) FROM INFILE '${file}' FORMAT RowBinary`,
      clickhouse_settings: { insert_deduplication_token: '' },
    });
  }
  return pieces.length;
}

async function rows(table: string, project: string, order: string): Promise<Array<Record<string, unknown>>> {
  const rs = await store.reader.query({
    query: `SELECT * EXCEPT project FROM ${table} WHERE project = {p:String} ORDER BY ${order}`,
    query_params: { p: project },
    format: 'JSONEachRow',
  });
  return rs.json<Record<string, unknown>>();
}

describe('RowBinary encoders', () => {
  it('store spans, traces and events exactly as JSONEachRow does', async () => {
    const n = 12;
    const spans = (p: string) => Array.from({ length: n }, (_, i) => spanRow(p, i));
    const traces = (p: string) => Array.from({ length: 4 }, (_, i) => traceRow(p, i));
    const events = (p: string) => Array.from({ length: 3 }, (_, i) => eventRow(p, i));
    await insertRows(store.writer, 'spans', spans('json'));
    await insertRows(store.writer, 'traces', traces('json'));
    await insertRows(store.writer, 'events', events('json'));
    // A small limit: the spans go in several pieces, a huge row alone.
    expect(await insertBinary('spans', SPANS_ROWBINARY, spans('rb'), 4096)).toBeGreaterThan(2);
    await insertBinary('traces', TRACES_ROWBINARY, traces('rb'));
    await insertBinary('events', EVENTS_ROWBINARY, events('rb'));

    const spansJson = await rows('spans', 'json', 'span_id');
    expect(spansJson).toHaveLength(n);
    expect(await rows('spans', 'rb', 'span_id')).toEqual(spansJson);
    const tracesJson = await rows('traces', 'json', 'trace_id');
    expect(tracesJson).toHaveLength(4);
    expect(await rows('traces', 'rb', 'trace_id')).toEqual(tracesJson);
    const eventsJson = await rows('events', 'json', 'span_id');
    expect(eventsJson).toHaveLength(3);
    expect(await rows('events', 'rb', 'span_id')).toEqual(eventsJson);
    // The index the materialized view fills from spans too.
    const index = async (p: string) =>
      (await store.reader.query({ query: `SELECT * EXCEPT project FROM span_index WHERE project = '${p}' ORDER BY span_id`, format: 'JSONEachRow' })).json();
    expect(await index('rb')).toEqual(await index('json'));
  }, 120_000);

  it('write length prefixes of every size', () => {
    for (const len of [0, 1, 42, 43, 127, 128, 5461, 5462, 16383, 16384, 700_000]) {
      for (const ch of ['a', 'é', '日', '🤖']) {
        const s = ch.repeat(Math.ceil(len / ch.length));
        const b = new RowBinaryBuffer(8);
        b.string(s);
        b.u8(0xee);
        const bytes = b.bytes();
        let n = 0;
        let shift = 0;
        let at = 0;
        for (;;) {
          const byte = bytes[at++] as number;
          n += (byte & 0x7f) * 2 ** shift;
          shift += 7;
          if (byte < 0x80) break;
        }
        expect(n).toBe(Buffer.byteLength(s));
        expect(bytes.subarray(at, at + n).toString('utf8')).toBe(s);
        expect(bytes[at + n]).toBe(0xee);
        expect(bytes.length).toBe(at + n + 1);
      }
    }
  });
});
