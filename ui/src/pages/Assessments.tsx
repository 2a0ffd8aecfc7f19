import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type Assessment, api, type Json, qs, type TraceDetail } from '../api';
import { Chip, ErrorBox, Time } from '../common';
import { fmtCost, fmtInt } from '../format';

/** A typed value: JSON when it parses (true, 3, {"a":1}), else the text itself. */
function parseValue(text: string): Json {
  const t = text.trim();
  try {
    return JSON.parse(t) as Json;
  } catch {
    return t;
  }
}

/** Every verdict on the trace, newest first per name, with the judge's cost; add, override, see history. */
export function AssessmentsPanel({ project, trace }: { project: string; trace: TraceDetail }) {
  const client = useQueryClient();
  const traceId = trace.info.trace_id;
  const base = `/api/v1/traces/${traceId}/assessments`;
  const refresh = (): Promise<void> => client.invalidateQueries({ queryKey: ['trace', project, traceId] });
  const list = [...trace.assessments].sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'feedback' ? -1 : 1));
  return (
    <div className="assessments" data-testid="assessments">
      <AddForm project={project} base={base} onDone={refresh} />
      {list.length === 0 ? <p className="muted">No assessments yet. Scorers configured in the evaluator write theirs here; add feedback above.</p> : null}
      {list.map((a) => (
        <AssessmentCard key={a.assessment_id} a={a} project={project} base={base} onDone={refresh} />
      ))}
    </div>
  );
}

function AssessmentCard({ a, project, base, onDone }: { a: Assessment; project: string; base: string; onDone: () => Promise<void> }) {
  const [showHistory, setShowHistory] = useState(false);
  const [overriding, setOverriding] = useState(false);
  const history = useQuery({
    enabled: showHistory,
    queryKey: ['history', project, a.trace_id, a.assessment_id],
    queryFn: () => api<{ history: Assessment[] }>(`${base}/${encodeURIComponent(a.assessment_id)}?${qs({ project, history: 'true' })}`),
  });
  const m = a.metadata;
  const inTok = Number(m.judge_input_tokens ?? 0);
  const outTok = Number(m.judge_output_tokens ?? 0);
  return (
    <div className={`card ${a.error ? 'err' : ''}`} data-testid="assessment" data-name={a.name}>
      <div className="card-head">
        {a.kind === 'feedback' && !a.error ? <Chip name={a.name} value={a.value} /> : <b>{a.name}</b>}
        <span className="muted">{a.kind}</span>
        {a.kind === 'expectation' ? <code>{JSON.stringify(a.value)}</code> : null}
        <span className="muted">
          {a.source.source_type} · {a.source.source_id}
        </span>
        <Time ms={Date.parse(a.last_update_time)} />
        {a.overrides ? <span className="chip">overrides an earlier verdict</span> : null}
      </div>
      {a.error ? <div className="error-box">scorer error: {a.error}</div> : null}
      {a.rationale ? (
        <p className="rationale" data-testid="rationale">
          {a.rationale}
        </p>
      ) : null}
      {m.judge_model || inTok || outTok ? (
        <div className="facts small">
          {m.judge_model ? <span>judge {m.judge_model}</span> : null}
          {inTok || outTok ? (
            <span>
              {fmtInt(inTok)} in / {fmtInt(outTok)} out tokens
            </span>
          ) : null}
          {m.judge_cost_usd ? <span>{fmtCost(Number(m.judge_cost_usd))}</span> : null}
          {m.judge_latency_ms ? <span>{m.judge_latency_ms} ms</span> : null}
        </div>
      ) : null}
      <div className="card-actions">
        {a.kind === 'feedback' ? (
          <button type="button" onClick={() => setOverriding(!overriding)}>
            Override
          </button>
        ) : null}
        <button type="button" onClick={() => setShowHistory(!showHistory)}>
          History
        </button>
      </div>
      {overriding ? (
        <ValueForm
          submitLabel="Save override"
          onSubmit={async (value, rationale) => {
            await api(`${base}/${encodeURIComponent(a.assessment_id)}/override?${qs({ project })}`, {
              method: 'POST',
              body: JSON.stringify({ value, rationale, source: { source_type: 'HUMAN', source_id: 'web-ui' } }),
            });
            setOverriding(false);
            await onDone();
          }}
        />
      ) : null}
      {showHistory ? (
        history.error ? (
          <ErrorBox error={history.error} />
        ) : (
          <ol className="history">
            {(history.data?.history ?? []).map((h) => (
              <li key={h.last_update_time}>
                <Time ms={Date.parse(h.last_update_time)} /> <code>{JSON.stringify(h.value)}</code> {h.valid ? '' : '(superseded)'} {h.rationale}
              </li>
            ))}
          </ol>
        )
      ) : null}
    </div>
  );
}

/** Thumbs or a typed value, and a rationale. */
function ValueForm({
  submitLabel,
  onSubmit,
  thumbs = true,
}: {
  submitLabel: string;
  onSubmit: (v: Json, rationale: string) => Promise<void>;
  thumbs?: boolean;
}) {
  const [value, setValue] = useState('');
  const [rationale, setRationale] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const send = async (v: Json): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await onSubmit(v, rationale);
      setValue('');
      setRationale('');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="value-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) void send(parseValue(value));
      }}
    >
      {thumbs ? (
        <>
          <button type="button" aria-label="thumbs up" disabled={busy} onClick={() => void send(true)}>
            ✓ Good
          </button>
          <button type="button" aria-label="thumbs down" disabled={busy} onClick={() => void send(false)}>
            ✗ Bad
          </button>
        </>
      ) : null}
      <input
        aria-label="value"
        placeholder={thumbs ? 'or a value: yes, 4, {"k":1}' : 'value (text or JSON)'}
        value={value}
        onChange={(e) => setValue(e.target.value)}
      />
      <input aria-label="rationale" className="wide" placeholder="rationale (why)" value={rationale} onChange={(e) => setRationale(e.target.value)} />
      <button type="submit" disabled={busy || !value.trim()}>
        {submitLabel}
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

function AddForm({ project, base, onDone }: { project: string; base: string; onDone: () => Promise<void> }) {
  const [kind, setKind] = useState<'feedback' | 'expectation'>('feedback');
  const [name, setName] = useState('user_feedback');
  return (
    <div className="add-form" data-testid="add-assessment">
      <div className="row">
        <b>Assess</b>
        <select
          aria-label="kind"
          value={kind}
          onChange={(e) => {
            const k = e.target.value as 'feedback' | 'expectation';
            setKind(k);
            setName(k === 'feedback' ? 'user_feedback' : 'expected_response');
          }}
        >
          <option value="feedback">feedback</option>
          <option value="expectation">expectation</option>
        </select>
        <input aria-label="name" value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <ValueForm
        key={kind}
        thumbs={kind === 'feedback'}
        submitLabel={kind === 'feedback' ? 'Add feedback' : 'Add expectation'}
        onSubmit={async (value, rationale) => {
          await api(`${base}?${qs({ project })}`, {
            method: 'POST',
            body: JSON.stringify({ name, kind, value, rationale, source: { source_type: 'HUMAN', source_id: 'web-ui' } }),
          });
          await onDone();
        }}
      />
    </div>
  );
}
