import { pipelineError } from '../../component/errors.js';
import type { LogGroup, Publisher, SpanGroup, SpanMessage } from '../../component/consumer.js';
import { decodeLogsRequest, decodeTraceRequest } from '../../otlp/decode.js';
import { walkTraceProtobuf } from '../../otlp/decode-protobuf.js';
import { encodeTraceMessage, traceMessageBytes, type TracePart } from '../../otlp/trace-messages.js';
import { validateLogsRequest, validateTraceRequest, validateWireTraceRequest } from '../../otlp/validate.js';
import type { Metrics } from '../../component/telemetry/metrics.js';
import { PROJECT_ATTRIBUTE, PROJECT_RE, PROJECT_RULE, resolveProject } from '../../model/project.js';
import { describeRefusal, outsideWindow, outsideWindowNs, timeWindow } from './time-window.js';
import type { IngestGuard } from '../../auth/ingest.js';
import type { BudgetLease } from '../../component/budget.js';
import { overBudget } from './body.js';

/**
 * What a request holds while it is handled, as a multiple of its decompressed body: the decoded request
 * (JS objects: 2-5x the OTLP bytes for many small spans), then its rows, their insert text and journal
 * copy, and the engine's own copy while it is written, plus the garbage V8 has not collected yet.
 * bench/memory.bench.ts measured about 9x for a 12 MB span at a factor of 3; 8 keeps peak RSS near the idle
 * process plus the budget.
 */
export const REQUEST_MEMORY_FACTOR = 8;
/**
 * The same for a protobuf trace request regrouped on the wire (a bus taking per-trace messages): the body,
 * the messages copied out of it (about as many bytes again), the small walk records and kafkajs' encoded
 * request.
 */
export const WIRE_MEMORY_FACTOR = 3;

/** The OTLP signal of an export request (its path or gRPC service). */
export type OtlpSignal = 'traces' | 'logs';
export type WireFormat = 'protobuf' | 'json';

/** Request header (HTTP) or metadata key (gRPC) a client names its project with. */
export const OTLP_PROJECT_HEADER = 'x-tracehouse-project';

export interface ExportOutcome {
  /** Items dropped through partial success, and why. */
  rejected: number;
  message: string;
}

export function checkProjectName(name: string, origin: string): string {
  if (!PROJECT_RE.test(name)) {
    throw pipelineError('INVALID_PROJECT', `${origin} "${name.slice(0, 64)}" is not a valid project name: use ${PROJECT_RULE}`);
  }
  return name;
}

/**
 * What both OTLP transports do with a request body: decode (throws OtlpDecodeError → 400), drop invalid
 * items (partial success), assign projects, and hand the rest to the bus, resolving only once it is
 * durable. Nothing of a request that fails here has been written.
 */
export class IngestHandler {
  private draining = false;

  constructor(
    private readonly bus: Publisher,
    private readonly metrics: Metrics,
    /** The store's `retention_days` (0: none): spans starting outside what it keeps are refused. */
    private readonly retentionDays = 0,
    private readonly now: () => number = Date.now,
  ) {}

  /** After this, every request is answered as retryable so clients resend to a live instance. */
  startDraining(): void {
    this.draining = true;
  }

  /** `guard`: an authenticated request's project and limits (src/auth/ingest.ts); none when auth is off. */
  /**
   * `lease` (when given) holds the request against the memory budget until the caller answers: it grows
   * to what the decoded request will hold, or the request is refused as over budget before decoding.
   */
  async handle(
    signal: OtlpSignal,
    body: Buffer,
    format: WireFormat,
    projectHeader: string | undefined,
    transport: string,
    lease?: BudgetLease,
    guard?: IngestGuard,
  ): Promise<ExportOutcome> {
    if (this.draining) throw pipelineError('SHUTTING_DOWN', 'server is shutting down');
    const header = projectHeader === undefined || projectHeader === '' ? undefined : checkProjectName(projectHeader, `header ${OTLP_PROJECT_HEADER}`);
    const wire = signal === 'traces' && format === 'protobuf' ? this.bus.spanMessages : undefined;
    if (lease && !lease.resize(body.length * (wire ? WIRE_MEMORY_FACTOR : REQUEST_MEMORY_FACTOR))) throw overBudget();
    if (wire) return this.wireTraces(wire, body, header, transport, guard);
    return signal === 'traces' ? this.traces(body, format, header, transport, guard) : this.logs(body, format, header, transport, guard);
  }

  /**
   * `traces` for a protobuf request on a bus of per-trace messages: the same validation, projects, time
   * window, limits, metrics and answers, but the messages are re-framed slices of the body.
   */
  private async wireTraces(
    bus: NonNullable<Publisher['spanMessages']>,
    body: Buffer,
    header: string | undefined,
    transport: string,
    guard?: IngestGuard,
  ): Promise<ExportOutcome> {
    const { accepted, rejected, errors } = validateWireTraceRequest(walkTraceProtobuf(body));
    guard?.checkResources(accepted.resourceSpans.map((rs) => rs.attributes));
    const admitted: Array<{ project: string; count: number }> = [];
    // One message per (project, trace), in order of first appearance, as spanMessages groups them.
    const traces = new Map<string, { project: string; key: string; parts: TracePart[] }>();
    let badProject = 0;
    let received = 0;
    let badTime = 0;
    const window = timeWindow(this.retentionDays, this.now());
    for (const rs of accepted.resourceSpans) {
      const project = resolveProject(header, rs.attributes);
      for (const ss of rs.scopeSpans) {
        received += ss.spans.length;
        if (project === null) {
          badProject += ss.spans.length;
          continue;
        }
        let count = 0;
        for (const span of ss.spans) {
          if (outsideWindowNs(span.startNs, window)) {
            badTime++;
            continue;
          }
          count++;
          const k = `${project}\u0000${span.traceId}`;
          let t = traces.get(k);
          if (!t) traces.set(k, (t = { project, key: span.traceId, parts: [] }));
          t.parts.push({ rs, ss, span });
        }
        if (count) admitted.push({ project, count });
      }
    }
    this.countRefusals(transport, { received, rejected, badProject, badTime }, window, errors);
    guard?.admit(admitted, body.length);
    const { messages, tooLarge, tooLargeErrors } = packTraces(body, traces.values(), bus.limit);
    if (messages.length) await bus.publish(messages);
    if (tooLarge) this.metrics.spansRefused.inc({ transport, reason: 'too_large' }, tooLarge);
    errors.push(...tooLargeErrors);
    return { rejected: rejected + badProject + badTime + tooLarge, message: errors.join('; ') };
  }

  /** Counts a trace request's spans received and refused (both paths alike), adding the refusals' errors. */
  private countRefusals(
    transport: string,
    n: { received: number; rejected: number; badProject: number; badTime: number },
    window: ReturnType<typeof timeWindow>,
    errors: string[],
  ): void {
    this.metrics.spansReceived.inc({ transport }, n.received + n.rejected);
    if (n.rejected) this.metrics.spansRefused.inc({ transport, reason: 'invalid' }, n.rejected);
    if (n.badProject) {
      this.metrics.spansRefused.inc({ transport, reason: 'project' }, n.badProject);
      errors.push(`${n.badProject} span(s) have an invalid ${PROJECT_ATTRIBUTE} resource attribute`);
    }
    if (n.badTime) {
      this.metrics.spansRefused.inc({ transport, reason: 'time' }, n.badTime);
      errors.push(describeRefusal(n.badTime, window));
    }
  }

  private async traces(body: Buffer, format: WireFormat, header: string | undefined, transport: string, guard?: IngestGuard): Promise<ExportOutcome> {
    const request = decodeTraceRequest(body, format);
    const { accepted, rejected, errors } = validateTraceRequest(request);
    guard?.checkResources(accepted.resourceSpans.map((rs) => rs.resource.attributes));
    const groups: SpanGroup[] = [];
    let badProject = 0;
    let received = 0;
    let badTime = 0;
    const window = timeWindow(this.retentionDays, this.now());
    for (const rs of accepted.resourceSpans) {
      const project = resolveProject(header, rs.resource.attributes);
      for (const ss of rs.scopeSpans) {
        received += ss.spans.length;
        if (project === null) {
          badProject += ss.spans.length;
          continue;
        }
        let spans = ss.spans;
        if (spans.some((s) => outsideWindow(s.startTimeNs, window))) {
          spans = spans.filter((s) => !outsideWindow(s.startTimeNs, window));
          badTime += ss.spans.length - spans.length;
        }
        if (spans.length) groups.push({ project, resource: rs.resource, scope: ss.scope, spans });
      }
    }
    this.countRefusals(transport, { received, rejected, badProject, badTime }, window, errors);
    guard?.admit(
      groups.map((g) => ({ project: g.project, count: g.spans.length })),
      body.length,
    );
    const published = await this.bus.publish({ spans: groups, logs: [], bytes: body.length });
    if (published.rejectedSpans) this.metrics.spansRefused.inc({ transport, reason: 'too_large' }, published.rejectedSpans);
    errors.push(...published.errors);
    return { rejected: rejected + badProject + badTime + published.rejectedSpans, message: errors.join('; ') };
  }

  private async logs(body: Buffer, format: WireFormat, header: string | undefined, transport: string, guard?: IngestGuard): Promise<ExportOutcome> {
    const request = decodeLogsRequest(body, format);
    const { accepted, rejected, errors } = validateLogsRequest(request);
    guard?.checkResources(accepted.resourceLogs.map((rl) => rl.resource.attributes));
    const groups: LogGroup[] = [];
    let badProject = 0;
    let received = 0;
    for (const rl of accepted.resourceLogs) {
      const project = resolveProject(header, rl.resource.attributes);
      for (const sl of rl.scopeLogs) {
        received += sl.logRecords.length;
        if (project === null) badProject += sl.logRecords.length;
        else groups.push({ project, resource: rl.resource, scope: sl.scope, records: sl.logRecords });
      }
    }
    this.metrics.logsReceived.inc({ transport }, received + rejected);
    if (badProject) errors.push(`${badProject} log record(s) have an invalid ${PROJECT_ATTRIBUTE} resource attribute`);
    guard?.admit(
      groups.map((g) => ({ project: g.project, count: g.records.length })),
      body.length,
    );
    const published = await this.bus.publish({ spans: [], logs: groups, bytes: body.length });
    errors.push(...published.errors);
    return { rejected: rejected + badProject + published.rejectedLogs, message: errors.join('; ') };
  }
}

/**
 * Per-trace messages of at most `limit` bytes: a trace too big for one is split greedily across several with
 * the same key, a span too big alone is refused and reported, as the Kafka bus' spanMessages does.
 */
function packTraces(
  body: Buffer,
  traces: Iterable<{ project: string; key: string; parts: TracePart[] }>,
  limit: number,
): { messages: SpanMessage[]; tooLarge: number; tooLargeErrors: string[] } {
  const messages: SpanMessage[] = [];
  const tooLargeErrors: string[] = [];
  let tooLarge = 0;
  for (const { project, key, parts } of traces) {
    if (traceMessageBytes(parts) <= limit) {
      messages.push({ project, key, value: encodeTraceMessage(body, parts), spans: parts.length });
      continue;
    }
    let chunk: TracePart[] = [];
    let chunkBytes = 0;
    const flush = (): void => {
      if (chunk.length) messages.push({ project, key, value: encodeTraceMessage(body, chunk), spans: chunk.length });
      chunk = [];
      chunkBytes = 0;
    };
    for (const part of parts) {
      const size = traceMessageBytes([part]);
      if (size > limit) {
        tooLarge++;
        if (tooLargeErrors.length < 5) {
          const s = decodeOneSpan(body, part);
          tooLargeErrors.push(
            `span ${s.spanId} ("${s.name.slice(0, 60)}") is ${size} bytes encoded, over the bus limit of ${limit} bytes (bus.kafka.max_message_bytes)`,
          );
        }
        continue;
      }
      if (chunkBytes + size > limit) flush();
      chunk.push(part);
      chunkBytes += size;
    }
    flush();
  }
  return { messages, tooLarge, tooLargeErrors };
}

/** The span's id and name for an error message, decoded from its bytes (rare: only oversized spans). */
function decodeOneSpan(body: Buffer, part: TracePart): { spanId: string; name: string } {
  const one = encodeTraceMessage(body, [part]);
  const span = decodeTraceRequest(one, 'protobuf').resourceSpans[0]?.scopeSpans[0]?.spans[0];
  return { spanId: span?.spanId ?? '', name: span?.name ?? '' };
}
