import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api, qs, type TraceInfo } from '../api';
import { Chip, ErrorBox, projectOf, RangePicker, Time, useRange } from '../common';
import { fmtDuration, fmtInt } from '../format';
import { type Location, navigate, withParams } from '../router';

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Sessions in the range: traces grouped by session id, newest session first. */
export function SessionsPage({ loc }: { loc: Location }) {
  const project = projectOf(loc);
  const range = useRange(loc);
  const q = useQuery({
    queryKey: ['sessions', project, range.from, range.to],
    queryFn: () => api<{ traces: TraceInfo[] }>(`/api/v1/traces?${qs({ project, from: range.from, to: range.to, max_results: 1000 })}`),
  });
  const sessions = useMemo(() => {
    const m = new Map<string, TraceInfo[]>();
    for (const t of q.data?.traces ?? []) {
      if (!t.session_id) continue;
      const l = m.get(t.session_id);
      if (l) l.push(t);
      else m.set(t.session_id, [t]);
    }
    return [...m.entries()].map(([id, traces]) => ({
      id,
      traces,
      last: Math.max(...traces.map((t) => t.timestamp_ms)),
      users: [...new Set(traces.map((t) => t.user_id).filter(Boolean))],
    }));
  }, [q.data]);
  return (
    <div className="page">
      <div className="toolbar">
        <RangePicker loc={loc} />
      </div>
      <h2>Sessions</h2>
      <ErrorBox error={q.error} />
      {q.data && sessions.length === 0 ? (
        <p className="empty">
          No trace in this range carries a session id (OpenInference <code>session.id</code>, Traceloop/Vercel metadata, MLflow session metadata).
        </p>
      ) : null}
      <table className="grid">
        <tbody>
          {sessions.map((s) => (
            <tr key={s.id} onClick={() => navigate(withParams(loc, {}, `/sessions/${encodeURIComponent(s.id)}`))} className="clickable">
              <td>{s.id}</td>
              <td>{s.users.join(', ')}</td>
              <td className="num">{s.traces.length} turns</td>
              <td>
                <Time ms={s.last} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One session's traces in order, as the conversation they make. */
export function SessionPage({ loc, sessionId }: { loc: Location; sessionId: string }) {
  const project = projectOf(loc);
  const range = useRange(loc);
  const q = useQuery({
    queryKey: ['session', project, sessionId, range.from, range.to],
    queryFn: () =>
      api<{ traces: TraceInfo[] }>(
        `/api/v1/traces?${qs({ project, from: range.from, to: range.to, filter: `trace.session_id = ${quote(sessionId)}`, order_by: ['timestamp_ms ASC'], max_results: 1000 })}`,
      ),
  });
  const traces = q.data?.traces ?? [];
  return (
    <div className="page">
      <button type="button" className="link" onClick={() => navigate(withParams(loc, {}, '/sessions'))}>
        ← Sessions
      </button>
      <h2>Session {sessionId}</h2>
      <ErrorBox error={q.error} />
      <p className="muted">
        {traces.length} turns · {fmtInt(traces.reduce((n, t) => n + t.token_usage.total_tokens, 0))} tokens
      </p>
      <div className="conversation session">
        {traces.map((t, i) => (
          <div key={t.trace_id} className="turn">
            <div className="turn-head">
              <b>#{i + 1}</b> <Time ms={t.timestamp_ms} /> <span className={`status ${t.state}`}>{t.state}</span> {fmtDuration(t.execution_time_ms)}{' '}
              <button type="button" className="link" onClick={() => navigate(withParams(loc, {}, `/traces/${t.trace_id}`))}>
                open trace
              </button>{' '}
              {Object.entries(t.assessments).map(([k, v]) => (
                <Chip key={k} name={k} value={v} />
              ))}
            </div>
            <div className="msg role-user">
              <div className="role">request</div>
              <div className="msg-text">{t.request_preview}</div>
            </div>
            <div className="msg role-assistant">
              <div className="role">response</div>
              <div className="msg-text">{t.response_preview}</div>
            </div>
          </div>
        ))}
      </div>
    </div>
  );
}
