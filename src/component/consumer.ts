import type { LogRecord, Resource, Scope, Span, SpanIds } from '../model/otlp.js';

/** Spans of one resource and scope, with the project they were assigned to on receipt. */
export interface SpanGroup {
  project: string;
  resource: Resource;
  scope: Scope;
  spans: Span[];
}

/** What an observer that needs only ids sees of a SpanGroup (a SpanGroup is one). */
export interface SpanIdGroup {
  project: string;
  spans: readonly SpanIds[];
}

export interface LogGroup {
  project: string;
  resource: Resource;
  scope: Scope;
  records: LogRecord[];
}

/**
 * The unit that crosses the bus: what one (or, after coalescing, several) OTLP requests carried.
 * Ownership rule: whoever hands a batch to `consume` must not touch it afterwards.
 */
export interface IngestBatch {
  spans: SpanGroup[];
  logs: LogGroup[];
  /**
   * The decompressed request bytes this batch came from, when the receiver knows them: the inline bus
   * bounds merged writes by it. Absent counts as 0.
   */
  bytes?: number;
}

/** The edge between stages. Resolves once the data is durable downstream; rejects with a PipelineError. */
export interface Consumer {
  consume(batch: IngestBatch): Promise<void>;
}

/** What a bus refused of a published batch (items too large to carry), reported through OTLP partial success. */
export interface PublishOutcome {
  rejectedSpans: number;
  rejectedLogs: number;
  errors: string[];
}

export const NOTHING_REJECTED: PublishOutcome = Object.freeze({ rejectedSpans: 0, rejectedLogs: 0, errors: [] as string[] }) as PublishOutcome;

/** One OTLP protobuf ExportTraceServiceRequest a receiver built: spans of one project and one trace. */
export interface SpanMessage {
  project: string;
  /** Hex trace id. */
  key: string;
  value: Buffer;
  spans: number;
}

/** What receivers hand requests to: resolves once the accepted part is durable in the next stage. */
export interface Publisher {
  publish(batch: IngestBatch): Promise<PublishOutcome>;
  /**
   * A bus that carries one message per trace (Kafka) takes them ready-made, built on the wire from a
   * protobuf request without decoding it into spans: no value may pass `limit` bytes.
   */
  readonly spanMessages?: {
    readonly limit: number;
    publish(messages: readonly SpanMessage[]): Promise<void>;
  };
}

export function countSpans(batch: IngestBatch): number {
  let n = 0;
  for (const g of batch.spans) n += g.spans.length;
  return n;
}

export function countLogs(batch: IngestBatch): number {
  let n = 0;
  for (const g of batch.logs) n += g.records.length;
  return n;
}
