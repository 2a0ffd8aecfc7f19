import { pipelineError } from '../../component/errors.js';
import type { LogGroup, Publisher, SpanGroup } from '../../component/consumer.js';
import { decodeLogsRequest, decodeTraceRequest } from '../../otlp/decode.js';
import { validateLogsRequest, validateTraceRequest } from '../../otlp/validate.js';
import type { Metrics } from '../../component/telemetry/metrics.js';
import { PROJECT_ATTRIBUTE, PROJECT_RE, PROJECT_RULE, resolveProject } from '../../model/project.js';
import { describeRefusal, outsideWindow, timeWindow } from './time-window.js';
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
    if (lease && !lease.resize(body.length * REQUEST_MEMORY_FACTOR)) throw overBudget();
    return signal === 'traces' ? this.traces(body, format, header, transport, guard) : this.logs(body, format, header, transport, guard);
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
    this.metrics.spansReceived.inc({ transport }, received + rejected);
    if (rejected) this.metrics.spansRefused.inc({ transport, reason: 'invalid' }, rejected);
    if (badProject) {
      this.metrics.spansRefused.inc({ transport, reason: 'project' }, badProject);
      errors.push(`${badProject} span(s) have an invalid ${PROJECT_ATTRIBUTE} resource attribute`);
    }
    if (badTime) {
      this.metrics.spansRefused.inc({ transport, reason: 'time' }, badTime);
      errors.push(describeRefusal(badTime, window));
    }
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
