import { useQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, qs, type Span, type TraceDetail } from '../api';
import { ErrorBox, projectOf, Time } from '../common';
import { fmtCost, fmtDuration, fmtInt } from '../format';
import { RawSpan, SpanIO } from '../io';
import { type Location, navigate, withParams } from '../router';
import { AssessmentsPanel } from './Assessments';

interface Row {
  span: Span;
  depth: number;
  hasChildren: boolean;
  startMs: number;
  durMs: number;
}

const ms = (ns: string): number => Number(BigInt(ns) / 1000n) / 1000;

/** Parent → children once per trace; rows are the visible (expanded) spans in depth-first order. */
function useTree(spans: Span[]) {
  return useMemo(() => {
    const ids = new Set(spans.map((s) => s.span_id));
    const children = new Map<string, Span[]>();
    const roots: Span[] = [];
    for (const s of spans) {
      const p = s.parent_span_id && ids.has(s.parent_span_id) ? s.parent_span_id : null;
      if (p === null) roots.push(s);
      else {
        const list = children.get(p);
        if (list) list.push(s);
        else children.set(p, [s]);
      }
    }
    const byStart = (a: Span, b: Span): number => (BigInt(a.start_time_ns) < BigInt(b.start_time_ns) ? -1 : 1);
    roots.sort(byStart);
    for (const l of children.values()) l.sort(byStart);
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (const s of spans) {
      min = Math.min(min, ms(s.start_time_ns));
      max = Math.max(max, ms(s.end_time_ns));
    }
    return { roots, children, min, total: Math.max(max - min, 0.001) };
  }, [spans]);
}

export function TracePage({ loc, traceId }: { loc: Location; traceId: string }) {
  const project = projectOf(loc);
  const q = useQuery({
    queryKey: ['trace', project, traceId],
    queryFn: () => api<TraceDetail>(`/api/v1/traces/${traceId}?${qs({ project })}`),
  });
  if (q.error) return <ErrorBox error={q.error} />;
  if (!q.data) return <p className="muted page">Loading trace…</p>;
  return <TraceView loc={loc} trace={q.data} project={project} />;
}

function TraceView({ loc, trace, project }: { loc: Location; trace: TraceDetail; project: string }) {
  const tree = useTree(trace.spans);
  const [collapsed, setCollapsed] = useState<Set<string>>(() => new Set());
  const rows = useMemo(() => {
    const out: Row[] = [];
    const visit = (s: Span, depth: number): void => {
      const kids = tree.children.get(s.span_id) ?? [];
      const startMs = ms(s.start_time_ns) - tree.min;
      out.push({ span: s, depth, hasChildren: kids.length > 0, startMs, durMs: ms(s.end_time_ns) - ms(s.start_time_ns) });
      if (!collapsed.has(s.span_id)) for (const k of kids) visit(k, depth + 1);
    };
    for (const r of tree.roots) visit(r, 0);
    return out;
  }, [tree, collapsed]);
  const selectedId =
    loc.params.get('span') ?? rows.find((r) => r.span.span_type === 'LLM' || r.span.span_type === 'CHAT_MODEL')?.span.span_id ?? rows[0]?.span.span_id;
  const selIndex = Math.max(
    0,
    rows.findIndex((r) => r.span.span_id === selectedId),
  );
  const selected = rows[selIndex]?.span ?? trace.spans.find((s) => s.span_id === selectedId);
  const select = useCallback((id: string) => navigate(withParams(loc, { span: id }), { replace: true }), [loc]);
  const tab = loc.params.get('tab') ?? 'span';

  const parentRef = useRef<HTMLDivElement>(null);
  const virt = useVirtualizer({ count: rows.length, getScrollElement: () => parentRef.current, estimateSize: () => 26, overscan: 20 });
  useEffect(() => {
    virt.scrollToIndex(selIndex, { align: 'auto' });
  }, [selIndex, virt]);

  const onKey = (e: React.KeyboardEvent): void => {
    const row = rows[selIndex];
    if (!row) return;
    const go = (i: number): void => {
      const r = rows[Math.max(0, Math.min(rows.length - 1, i))];
      if (r) select(r.span.span_id);
    };
    if (e.key === 'ArrowDown' || e.key === 'j') go(selIndex + 1);
    else if (e.key === 'ArrowUp' || e.key === 'k') go(selIndex - 1);
    else if (e.key === 'ArrowLeft' && row.hasChildren && !collapsed.has(row.span.span_id)) setCollapsed(new Set(collapsed).add(row.span.span_id));
    else if (e.key === 'ArrowRight' && collapsed.has(row.span.span_id)) {
      const next = new Set(collapsed);
      next.delete(row.span.span_id);
      setCollapsed(next);
    } else if (e.key === 'ArrowLeft' && row.span.parent_span_id) select(row.span.parent_span_id);
    else return;
    e.preventDefault();
  };

  const totals = useMemo(() => {
    let cost = 0;
    let costed = false;
    for (const s of trace.spans)
      if (s.cost !== null) {
        cost += s.cost;
        costed = true;
      }
    return { cost: costed ? cost : null, errors: trace.spans.filter((s) => s.status.code === 'ERROR').length };
  }, [trace.spans]);
  const info = trace.info;
  return (
    <div className="page trace-page">
      <div className="trace-head">
        <button type="button" className="link" onClick={() => navigate(withParams(loc, { span: undefined, tab: undefined }, '/traces'))}>
          ← Traces
        </button>
        <h2>{info.name || info.trace_id}</h2>
        <span className={`status ${info.state}`}>{info.state}</span>
        <Time ms={info.timestamp_ms} />
        <span>{fmtDuration(info.execution_time_ms)}</span>
        <span>{fmtInt(info.span_count)} spans</span>
        <span title="input / output tokens">
          {fmtInt(info.token_usage.total_tokens)} tokens ({fmtInt(info.token_usage.input_tokens)} in / {fmtInt(info.token_usage.output_tokens)} out)
        </span>
        {totals.cost !== null ? <span>{fmtCost(totals.cost)}</span> : null}
        {totals.errors > 0 ? <span className="status ERROR">{totals.errors} error spans</span> : null}
        {info.session_id ? (
          <button
            type="button"
            className="link"
            onClick={() => navigate(withParams(loc, { span: undefined, tab: undefined }, `/sessions/${encodeURIComponent(info.session_id)}`))}
          >
            session {info.session_id}
          </button>
        ) : null}
        <code className="muted small">{info.trace_id}</code>
      </div>
      <div className="split">
        <div className="tree" ref={parentRef} tabIndex={0} onKeyDown={onKey} data-testid="span-tree" role="tree">
          <div style={{ height: virt.getTotalSize(), position: 'relative' }}>
            {virt.getVirtualItems().map((v) => {
              const r = rows[v.index]!;
              const s = r.span;
              const on = v.index === selIndex;
              return (
                // biome-ignore lint/a11y/useFocusableInteractive: focus stays on the tree, which moves the selection
                <div
                  key={s.span_id}
                  role="treeitem"
                  aria-selected={on}
                  data-span-id={s.span_id}
                  className={`span-row ${on ? 'sel' : ''} ${s.status.code === 'ERROR' ? 'err' : ''}`}
                  style={{ position: 'absolute', top: 0, left: 0, right: 0, height: v.size, transform: `translateY(${v.start}px)` }}
                  onClick={() => select(s.span_id)}
                  onKeyDown={undefined}
                >
                  <div className="span-name" style={{ paddingLeft: 6 + r.depth * 14 }}>
                    {r.hasChildren ? (
                      <button
                        type="button"
                        className="twist"
                        onClick={(e) => {
                          e.stopPropagation();
                          const next = new Set(collapsed);
                          if (next.has(s.span_id)) next.delete(s.span_id);
                          else next.add(s.span_id);
                          setCollapsed(next);
                        }}
                      >
                        {collapsed.has(s.span_id) ? '▸' : '▾'}
                      </button>
                    ) : (
                      <span className="twist" />
                    )}
                    <span className={`type t-${s.span_type}`}>{s.span_type}</span> {s.name}
                  </div>
                  <div className="bar-cell">
                    <div
                      className="bar"
                      style={{ left: `${(r.startMs / tree.total) * 100}%`, width: `${Math.max(0.3, (r.durMs / tree.total) * 100)}%` }}
                      title={`${fmtDuration(r.durMs)} at +${fmtDuration(r.startMs)}`}
                    />
                  </div>
                  <div className="dur">{fmtDuration(r.durMs)}</div>
                </div>
              );
            })}
          </div>
        </div>
        <div className="detail">
          <div className="tabs" role="tablist">
            <button
              type="button"
              role="tab"
              aria-selected={tab === 'span'}
              className={tab === 'span' ? 'on' : ''}
              onClick={() => navigate(withParams(loc, { tab: undefined }), { replace: true })}
            >
              Span
            </button>
            <button
              type="button"
              role="tab"
              aria-selected={tab === 'assessments'}
              className={tab === 'assessments' ? 'on' : ''}
              onClick={() => navigate(withParams(loc, { tab: 'assessments' }), { replace: true })}
            >
              Assessments ({trace.assessments.length})
            </button>
          </div>
          {tab === 'assessments' ? (
            <AssessmentsPanel project={project} trace={trace} />
          ) : selected ? (
            <SpanDetail key={selected.span_id} span={selected} trace={trace} />
          ) : null}
        </div>
      </div>
    </div>
  );
}

function SpanDetail({ span, trace }: { span: Span; trace: TraceDetail }) {
  const verdicts = trace.assessments.filter((a) => a.span_id === span.span_id);
  return (
    <div className="span-detail" data-testid="span-detail">
      <h3>
        <span className={`type t-${span.span_type}`}>{span.span_type}</span> {span.name}
      </h3>
      <div className="facts">
        <span>{fmtDuration(ms(span.end_time_ns) - ms(span.start_time_ns))}</span>
        <span className={`status ${span.status.code}`}>{span.status.code}</span>
        {span.model ? <span>model {span.model}</span> : null}
        {span.provider ? <span>{span.provider}</span> : null}
        {span.token_usage ? (
          <span data-testid="span-tokens">
            {fmtInt(span.token_usage.total_tokens)} tokens ({fmtInt(span.token_usage.input_tokens)} in / {fmtInt(span.token_usage.output_tokens)} out)
          </span>
        ) : null}
        {span.cost !== null ? <span>{fmtCost(span.cost)}</span> : null}
      </div>
      {span.status.code === 'ERROR' ? <div className="error-box">{span.status.message || 'this span failed'}</div> : null}
      {verdicts.length > 0 ? (
        <div className="chips">
          {verdicts.map((a) => (
            <span key={a.assessment_id} className="chip" title={a.rationale}>
              {a.name}: {JSON.stringify(a.value)}
            </span>
          ))}
        </div>
      ) : null}
      <SpanIO span={span} />
      <RawSpan span={span} />
    </div>
  );
}
