/**
 * A process that leaves the file journal as a crash would, for test/integration/file-journal-crash: it
 * writes one request-sized batch through the real writer (RowBinary, embedded chDB) but its second
 * statement never runs — the connection holds it — so the write is journaled complete with only its spans
 * committed; and it prepares a second write's files without completing its journal (`.pending`). Then it
 * prints "ready" and waits for SIGKILL.
 *
 *   node --import tsx test/helpers/journal-child.ts DATA_DIR COMPLETE_TRACE_ID PENDING_TRACE_ID SPANS
 */
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { loadConfig } from '../../src/config/load.js';
import { openStore } from '../../src/exporters/clickhouse/client.js';
import { FileJournal } from '../../src/exporters/clickhouse/file-journal.js';
import { migrate } from '../../src/exporters/clickhouse/migrate.js';
import { SPANS_ROWBINARY, TRACES_ROWBINARY, encodeChunks } from '../../src/exporters/clickhouse/rowbinary.js';
import { buildSpanRow, buildTraceRows, flattenAttributes } from '../../src/exporters/clickhouse/rows.js';
import { StoreWriter } from '../../src/exporters/clickhouse/writer.js';
import type { SpanGroup } from '../../src/component/consumer.js';
import { decodeTraceRequest } from '../../src/otlp/decode.js';
import { validateTraceRequest } from '../../src/otlp/validate.js';

const [dataDir, completeId, pendingId, count] = process.argv.slice(2) as [string, string, string, string];
export const PROJECT = 'journal';

function groups(traceId: string, n: number): SpanGroup[] {
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = Array.from({ length: n }, (_, s) => ({
    traceId,
    spanId: (s + 1).toString(16).padStart(16, '0'),
    parentSpanId: s === 0 ? '' : '1'.padStart(16, '0'),
    name: s === 0 ? 'root' : `child-${s}`,
    kind: 1,
    startTimeUnixNano: String(now + BigInt(s)),
    endTimeUnixNano: String(now + 1_000_000n),
    attributes: [{ key: 'payload', value: { stringValue: `${s}:é🤖`.padEnd(500, 'p') } }],
  }));
  const body = {
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'journal' } }] }, scopeSpans: [{ scope: { name: 't' }, spans }] }],
  };
  const { accepted } = validateTraceRequest(decodeTraceRequest(Buffer.from(JSON.stringify(body)), 'json'));
  return accepted.resourceSpans.flatMap((rs) => rs.scopeSpans.map((ss) => ({ project: PROJECT, resource: rs.resource, scope: ss.scope, spans: ss.spans })));
}

const storePath = dataDir;
const store = await openStore(loadConfig({ env: {}, overrides: { 'store.path': storePath } }).store);
await migrate(store.writer);
const journalDir = join(storePath, 'write-journal');

// The connection runs the first insert and holds every later one: the write stops between its statements.
let inserts = 0;
let held: () => void = () => undefined;
const heldBack = new Promise<void>((resolve) => (held = resolve));
const client = new Proxy(store.writer, {
  get(target, prop, receiver) {
    if (prop !== 'command') return Reflect.get(target, prop, receiver);
    return async (params: Parameters<ClickHouseClient['command']>[0]) => {
      if (/^INSERT/.test(params.query) && ++inserts > 1) {
        held();
        return new Promise(() => undefined);
      }
      return target.command(params);
    };
  },
});
const writer = new StoreWriter(client, { previewChars: 1000, insertFormat: 'rowbinary', journalDir });
void writer.consume({ spans: groups(completeId, Number(count)), logs: [] });
await heldBack;

// The second write: files written, the journal never completed.
const spanRows = groups(pendingId, Number(count)).flatMap((g) => g.spans.map((s) => buildSpanRow(g, s, flattenAttributes(g.resource.attributes))));
await new FileJournal(journalDir).prepare(
  'pendingwrite',
  [
    ...encodeChunks(SPANS_ROWBINARY, spanRows, 1 << 24).map((bytes, i) => ({ table: 'spans', token: `p:spans:${i}`, bytes })),
    ...encodeChunks(TRACES_ROWBINARY, buildTraceRows(spanRows, 1000), 1 << 24).map((bytes, i) => ({ table: 'traces', token: `p:traces:${i}`, bytes })),
  ],
  false,
);
process.stdout.write('ready\n');
await new Promise(() => undefined);
