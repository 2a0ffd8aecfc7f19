import { CONVENTIONS, type Convention, type NormalizedSpan } from '../../model/genai.js';
import type { Attributes } from '../../model/otlp.js';
import type { Metrics } from '../../component/telemetry/metrics.js';
import { isMappedKey } from '../../normalize/mapped-keys.js';
import type { SpanRow } from './tables.js';

const INDEX = new Map<Convention, number>(CONVENTIONS.map((c, i) => [c, i]));
/** Distinct attribute keys remembered as mapped or not; past this the check runs uncached. */
const KEY_CACHE_MAX = 4096;

/**
 * The write-time half of the ingest report: per convention, spans written, LLM spans missing model,
 * tokens or content, and attributes no mapping read. Counts a batch in plain arrays and adds them to the
 * Prometheus counters once per batch, so the per-span cost is a few comparisons and a key lookup each.
 */
export class IngestCounters {
  private readonly mapped = new Map<string, boolean>();
  private readonly spans = new Array<number>(CONVENTIONS.length).fill(0);
  private readonly noModel = new Array<number>(CONVENTIONS.length).fill(0);
  private readonly noTokens = new Array<number>(CONVENTIONS.length).fill(0);
  private readonly noContent = new Array<number>(CONVENTIONS.length).fill(0);
  private readonly unmapped = new Array<number>(CONVENTIONS.length).fill(0);

  constructor(private readonly metrics: Metrics) {}

  private isMapped(key: string): boolean {
    const known = this.mapped.get(key);
    if (known !== undefined) return known;
    const m = isMappedKey(key);
    if (this.mapped.size < KEY_CACHE_MAX) this.mapped.set(key, m);
    return m;
  }

  readonly observe = (n: NormalizedSpan, attrs: Attributes, row: SpanRow): void => {
    const i = INDEX.get(n.convention) ?? CONVENTIONS.length - 1;
    this.spans[i]!++;
    if (row.span_type === 'LLM' || row.span_type === 'CHAT_MODEL') {
      if (row.model === '') this.noModel[i]!++;
      if (n.usage === null) this.noTokens[i]!++;
      if (row.inputs === '' && row.outputs === '') this.noContent[i]!++;
    }
    let unmapped = 0;
    for (const k in attrs) if (!this.isMapped(k)) unmapped++;
    this.unmapped[i]! += unmapped;
  };

  /** Forgets a batch that failed: its retry counts it again. */
  discard(): void {
    for (const a of [this.spans, this.noModel, this.noTokens, this.noContent, this.unmapped]) a.fill(0);
  }

  /** Adds what the batch counted to /metrics and starts over. */
  flush(): void {
    for (let i = 0; i < CONVENTIONS.length; i++) {
      if (this.spans[i] === 0) continue;
      const convention = CONVENTIONS[i]!;
      this.metrics.ingestSpans.inc({ convention }, this.spans[i]);
      if (this.noModel[i]) this.metrics.ingestLlmIncomplete.inc({ convention, missing: 'model' }, this.noModel[i]);
      if (this.noTokens[i]) this.metrics.ingestLlmIncomplete.inc({ convention, missing: 'tokens' }, this.noTokens[i]);
      if (this.noContent[i]) this.metrics.ingestLlmIncomplete.inc({ convention, missing: 'content' }, this.noContent[i]);
      if (this.unmapped[i]) this.metrics.ingestUnmappedAttributes.inc({ convention }, this.unmapped[i]);
      this.spans[i] = this.noModel[i] = this.noTokens[i] = this.noContent[i] = this.unmapped[i] = 0;
    }
  }
}
