import type { LogRecord, Resource, Scope, Span } from '../../model/otlp.js';
import { encodeLogsRequest, encodeTraceRequest } from '../../otlp/encode-request.js';
import type { LogGroup, SpanGroup } from '../../component/consumer.js';

/** Kafka message header carrying the project a message's data was assigned to on receipt. */
export const KAFKA_PROJECT_HEADER = 'tracehouse-project';
/** Room left in a message for its key, headers and Kafka's record overhead. */
export const ENVELOPE_BYTES = 512;

export interface OutMessage {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  /** Spans or log records inside. */
  items: number;
}

export interface Packed {
  messages: OutMessage[];
  rejected: number;
  errors: string[];
}

interface Item<T> {
  resource: Resource;
  scope: Scope;
  item: T;
}

/** Keeps the resource/scope structure of the items (same objects → same group) in one request. */
function regroup<T>(items: readonly Item<T>[]): Array<{ resource: Resource; scopes: Array<{ scope: Scope; items: T[] }> }> {
  const byResource = new Map<Resource, Map<Scope, T[]>>();
  for (const it of items) {
    let scopes = byResource.get(it.resource);
    if (!scopes) byResource.set(it.resource, (scopes = new Map()));
    const list = scopes.get(it.scope);
    if (list) list.push(it.item);
    else scopes.set(it.scope, [it.item]);
  }
  return [...byResource].map(([resource, scopes]) => ({ resource, scopes: [...scopes].map(([scope, list]) => ({ scope, items: list })) }));
}

const encodeSpans = (items: readonly Item<Span>[]): Buffer =>
  encodeTraceRequest({
    resourceSpans: regroup(items).map((r) => ({ resource: r.resource, scopeSpans: r.scopes.map((s) => ({ scope: s.scope, spans: s.items })) })),
  });

const encodeLogs = (items: readonly Item<LogRecord>[]): Buffer =>
  encodeLogsRequest({
    resourceLogs: regroup(items).map((r) => ({ resource: r.resource, scopeLogs: r.scopes.map((s) => ({ scope: s.scope, logRecords: s.items })) })),
  });

/**
 * One message per (project, trace), keyed by the hex trace id, as the Collector's Kafka exporter does
 * with `partition_traces_by_id`: all spans of a trace land on one partition. A trace too big for one
 * message is split across several with the same key; an item that alone exceeds the limit is refused
 * and reported (`describe` names it), never dropped silently.
 */
function pack<T>(
  entries: ReadonlyArray<{ project: string; key: string; items: Item<T>[] }>,
  encode: (items: readonly Item<T>[]) => Buffer,
  maxBytes: number,
  describe: (item: T, bytes: number) => string,
): Packed {
  const limit = maxBytes - ENVELOPE_BYTES;
  const out: Packed = { messages: [], rejected: 0, errors: [] };
  for (const { project, key, items } of entries) {
    const headers = { [KAFKA_PROJECT_HEADER]: project };
    const whole = encode(items);
    if (whole.length <= limit) {
      out.messages.push({ key: key || null, value: whole, headers, items: items.length });
      continue;
    }
    // Greedy split: sizes add up closely because each piece repeats only its resource and scope.
    let chunk: Item<T>[] = [];
    let chunkBytes = 0;
    const flush = (): void => {
      if (chunk.length) out.messages.push({ key: key || null, value: encode(chunk), headers, items: chunk.length });
      chunk = [];
      chunkBytes = 0;
    };
    for (const it of items) {
      const size = encode([it]).length;
      if (size > limit) {
        out.rejected++;
        if (out.errors.length < 5) out.errors.push(describe(it.item, size));
        continue;
      }
      if (chunkBytes + size > limit) flush();
      chunk.push(it);
      chunkBytes += size;
    }
    flush();
  }
  return out;
}

/** Groups items by (project, trace id), keeping each item's resource and scope. */
function byTrace<G extends { project: string; resource: Resource; scope: Scope }, T extends { traceId: string }>(
  groups: readonly G[],
  itemsOf: (g: G) => readonly T[],
): Array<{ project: string; key: string; items: Item<T>[] }> {
  const out = new Map<string, { project: string; key: string; items: Item<T>[] }>();
  for (const g of groups) {
    for (const item of itemsOf(g)) {
      const k = `${g.project}\u0000${item.traceId}`;
      let e = out.get(k);
      if (!e) out.set(k, (e = { project: g.project, key: item.traceId, items: [] }));
      e.items.push({ resource: g.resource, scope: g.scope, item });
    }
  }
  return [...out.values()];
}

const overLimit = (maxBytes: number): string => `over the bus limit of ${maxBytes - ENVELOPE_BYTES} bytes (bus.kafka.max_message_bytes)`;

export function spanMessages(groups: readonly SpanGroup[], maxBytes: number): Packed {
  return pack(
    byTrace(groups, (g) => g.spans),
    encodeSpans,
    maxBytes,
    (s, bytes) => `span ${s.spanId} ("${s.name.slice(0, 60)}") is ${bytes} bytes encoded, ${overLimit(maxBytes)}`,
  );
}

export function logMessages(groups: readonly LogGroup[], maxBytes: number): Packed {
  return pack(
    byTrace(groups, (g) => g.records),
    encodeLogs,
    maxBytes,
    (r, bytes) => `log record "${r.eventName || 'unnamed'}" is ${bytes} bytes encoded, ${overLimit(maxBytes)}`,
  );
}
