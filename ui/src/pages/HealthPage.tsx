import { useQuery } from '@tanstack/react-query';
import { api, qs, type ScorerStatus } from '../api';
import { ErrorBox, projectOf, RangePicker, Time, useRange } from '../common';
import { fmtCost, fmtInt } from '../format';
import type { Location } from '../router';

export function HealthPage({ loc }: { loc: Location }) {
  const project = projectOf(loc);
  const range = useRange(loc);
  const q = useQuery({
    queryKey: ['status', project, range.from, range.to],
    queryFn: () => api<{ traces: number; scorers: ScorerStatus[] }>(`/api/v1/evaluator/status?${qs({ project, from: range.from, to: range.to })}`),
    refetchInterval: 15_000,
  });
  const total = (q.data?.scorers ?? []).reduce(
    (t, s) => ({ cost: t.cost + s.judge_cost_usd, tokens: t.tokens + s.judge_input_tokens + s.judge_output_tokens }),
    { cost: 0, tokens: 0 },
  );
  return (
    <div className="page">
      <div className="toolbar">
        <RangePicker loc={loc} />
      </div>
      <h2>Evaluator health</h2>
      <ErrorBox error={q.error} />
      {q.data ? (
        <>
          <p>
            {fmtInt(q.data.traces)} traces in range · judge spend {fmtInt(total.tokens)} tokens, {fmtCost(total.cost)}
          </p>
          {q.data.scorers.length === 0 ? (
            <p className="empty">
              No scorer has written a verdict in this range. Scorers are configured under <code>evaluator.scorers</code>.
            </p>
          ) : (
            <table className="grid" data-testid="health">
              <thead>
                <tr>
                  <th>Scorer</th>
                  <th>Source</th>
                  <th>Verdicts</th>
                  <th>Errors</th>
                  <th title="traces in range without a verdict of this scorer (sampling leaves some out on purpose)">Pending</th>
                  <th title="newest trace minus newest judged trace">Lag</th>
                  <th>Last verdict</th>
                  <th>Judge tokens in / out</th>
                  <th>Judge cost</th>
                </tr>
              </thead>
              <tbody>
                {q.data.scorers.map((s) => (
                  <tr key={s.name} className={s.errors > 0 ? 'err' : ''}>
                    <td>{s.name}</td>
                    <td>{s.source_type}</td>
                    <td className="num">{fmtInt(s.assessments)}</td>
                    <td className="num">{fmtInt(s.errors)}</td>
                    <td className="num">{fmtInt(s.pending_traces)}</td>
                    <td className="num">{s.lag_seconds === null ? '—' : `${s.lag_seconds.toFixed(1)} s`}</td>
                    <td>{s.last_assessment_ms ? <Time ms={s.last_assessment_ms} /> : '—'}</td>
                    <td className="num">
                      {fmtInt(s.judge_input_tokens)} / {fmtInt(s.judge_output_tokens)}
                    </td>
                    <td className="num">{fmtCost(s.judge_cost_usd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : null}
    </div>
  );
}
