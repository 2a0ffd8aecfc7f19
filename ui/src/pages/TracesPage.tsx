import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { api, qs, type TraceInfo } from '../api';
import { Chip, ErrorBox, projectOf, RangePicker, Time, useRange } from '../common';
import { fmtDuration, fmtInt } from '../format';
import { type Location, navigate, withParams } from '../router';
import { FilterBox } from './FilterBox';

const PAGE = 100;
/** Columns the API sorts by (order_by); the others sort the page in view. */
const SERVER_SORT: Record<string, string> = { time: 'timestamp_ms', name: 'name', status: 'status', duration: 'execution_time_ms' };

export function TracesPage({ loc }: { loc: Location }) {
  const project = projectOf(loc);
  const range = useRange(loc);
  const filter = loc.params.get('filter') ?? '';
  const sort = loc.params.get('sort') ?? 'time';
  const dir = loc.params.get('dir') === 'asc' ? 'ASC' : 'DESC';
  const pageToken = loc.params.get('pt') ?? '';
  const [prev, setPrev] = useState<string[]>([]);
  const q = useQuery({
    queryKey: ['traces', project, range.from, range.to, filter, sort, dir, pageToken],
    queryFn: () =>
      api<{ traces: TraceInfo[]; next_page_token: string | null }>(
        `/api/v1/traces?${qs({
          project,
          from: range.from,
          to: range.to,
          filter,
          max_results: PAGE,
          page_token: pageToken,
          order_by: SERVER_SORT[sort] ? [`${SERVER_SORT[sort]} ${dir}`] : [],
        })}`,
      ),
  });
  const rows = useMemo(() => {
    const list = q.data?.traces ?? [];
    if (SERVER_SORT[sort]) return list;
    const key = (t: TraceInfo): number | string => (sort === 'tokens' ? t.token_usage.total_tokens : sort === 'session' ? t.session_id : t.user_id);
    return [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (dir === 'ASC' ? 1 : -1));
  }, [q.data, sort, dir]);
  const assessmentKeys = useMemo(() => [...new Set(rows.flatMap((t) => Object.keys(t.assessments).map((k) => `feedback.${k}`)))], [rows]);
  const [sel, setSel] = useState(0);
  const tableRef = useRef<HTMLTableElement>(null);
  const open = (t: TraceInfo): void => navigate(withParams(loc, { span: undefined }, `/traces/${t.trace_id}`));

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const target = e.target as HTMLElement;
      if (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA') return;
      if (e.key === '/') {
        e.preventDefault();
        document.querySelector<HTMLInputElement>('[data-testid=filter]')?.focus();
      } else if (e.key === 'j' || e.key === 'ArrowDown') {
        e.preventDefault();
        setSel((s) => Math.min(rows.length - 1, s + 1));
      } else if (e.key === 'k' || e.key === 'ArrowUp') {
        e.preventDefault();
        setSel((s) => Math.max(0, s - 1));
      } else if (e.key === 'Enter' && rows[sel]) open(rows[sel]);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });
  useEffect(() => {
    tableRef.current?.querySelector(`tr[data-index="${sel}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [sel]);

  const header = (id: string, label: string) => (
    <th>
      <button
        type="button"
        className="sort"
        onClick={() => navigate(withParams(loc, { sort: id, dir: sort === id && dir === 'DESC' ? 'asc' : 'desc', pt: undefined }))}
      >
        {label}
        {sort === id ? (dir === 'DESC' ? ' ▾' : ' ▴') : ''}
      </button>
    </th>
  );
  const filterError = q.error;
  return (
    <div className="page">
      <div className="toolbar">
        <RangePicker loc={loc} />
      </div>
      <FilterBox
        value={filter}
        error={filterError}
        extraKeys={assessmentKeys}
        onSubmit={(f) => {
          setPrev([]);
          navigate(withParams(loc, { filter: f, pt: undefined }));
        }}
      />
      {q.error && !(q.error as { code?: string }).code?.startsWith('INVALID_FILTER') ? <ErrorBox error={q.error} /> : null}
      {q.isPending ? <p className="muted">Loading traces…</p> : null}
      {q.data && rows.length === 0 ? filter ? <p className="empty">No trace in {range.label} matches this filter.</p> : <EmptyState project={project} /> : null}
      {rows.length > 0 ? (
        <table className="traces" ref={tableRef} data-testid="traces">
          <thead>
            <tr>
              {header('time', 'Time')}
              {header('name', 'Name')}
              {header('status', 'Status')}
              {header('duration', 'Duration')}
              {header('tokens', 'Tokens')}
              <th>Models</th>
              {header('session', 'Session')}
              {header('user', 'User')}
              <th>Request</th>
              <th>Assessments</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((t, i) => (
              <tr
                key={t.trace_id}
                data-index={i}
                data-trace-id={t.trace_id}
                className={`${i === sel ? 'sel' : ''} ${t.state === 'ERROR' ? 'err' : ''}`}
                onClick={() => open(t)}
              >
                <td className="nowrap">
                  <Time ms={t.timestamp_ms} />
                </td>
                <td>
                  <a
                    href={withParams(loc, { span: undefined }, `/traces/${t.trace_id}`)}
                    onClick={(e) => {
                      e.preventDefault();
                    }}
                  >
                    {t.name || t.trace_id.slice(0, 12)}
                  </a>
                </td>
                <td>
                  <span className={`status ${t.state}`}>{t.state}</span>
                </td>
                <td className="num">{fmtDuration(t.execution_time_ms)}</td>
                <td className="num">{t.token_usage.total_tokens ? fmtInt(t.token_usage.total_tokens) : ''}</td>
                <td className="small">{t.models.join(', ')}</td>
                <td className="small">
                  {t.session_id ? (
                    <a
                      href={`/sessions/${encodeURIComponent(t.session_id)}?project=${encodeURIComponent(project)}`}
                      onClick={(e) => {
                        e.preventDefault();
                        e.stopPropagation();
                        navigate(withParams(loc, {}, `/sessions/${encodeURIComponent(t.session_id)}`));
                      }}
                    >
                      {t.session_id}
                    </a>
                  ) : null}
                </td>
                <td className="small">{t.user_id}</td>
                <td className="preview" title={t.request_preview}>
                  {t.request_preview.slice(0, 140)}
                </td>
                <td className="chips">
                  {Object.entries(t.assessments).map(([k, v]) => (
                    <Chip key={k} name={k} value={v} />
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <div className="pager">
        <button
          type="button"
          disabled={prev.length === 0 && !pageToken}
          onClick={() => {
            const p = prev.slice(0, -1);
            setPrev(p);
            navigate(withParams(loc, { pt: prev[prev.length - 1] }));
          }}
        >
          ← Newer
        </button>
        <span className="muted">{rows.length ? `${rows.length} traces · ${range.label}` : ''}</span>
        <button
          type="button"
          disabled={!q.data?.next_page_token}
          onClick={() => {
            setPrev([...prev, pageToken]);
            navigate(withParams(loc, { pt: q.data?.next_page_token ?? undefined }));
          }}
        >
          Older →
        </button>
      </div>
      <p className="muted keys">Keys: / filter · j/k or ↑/↓ move · Enter open</p>
    </div>
  );
}

function EmptyState({ project }: { project: string }) {
  const host = location.hostname || 'localhost';
  return (
    <div className="empty" data-testid="empty">
      <h3>No traces in project “{project}” for this range yet</h3>
      <p>Point any OpenTelemetry exporter at tracehouse (OTLP/HTTP on :4318, OTLP/gRPC on :4317):</p>
      <pre>{`export OTEL_EXPORTER_OTLP_ENDPOINT=http://${host}:4318
export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
export OTEL_EXPORTER_OTLP_HEADERS=x-tracehouse-project=${project}`}</pre>
      <p>
        Then run your instrumented app (OpenInference, OpenLLMetry, OTel GenAI, Vercel AI SDK or MLflow tracing) and reload. Widen the range above if your
        traces are older.
      </p>
    </div>
  );
}
