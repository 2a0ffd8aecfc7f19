import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, qs, type StatsBucket } from '../api';
import { ErrorBox, projectOf, RangePicker, useRange } from '../common';
import { fmtInt, fmtTime } from '../format';
import { type Location, navigate, withParams } from '../router';

const BUCKETS: Array<[string, number]> = [
  ['1m', 60],
  ['5m', 300],
  ['15m', 900],
  ['1h', 3600],
  ['6h', 21600],
  ['1d', 86400],
];

/** About 40 buckets over the range. */
export function bucketFor(rangeMs: number): [string, number] {
  return BUCKETS.find(([, s]) => rangeMs / 1000 / s <= 60) ?? BUCKETS[BUCKETS.length - 1]!;
}

export function QualityPage({ loc }: { loc: Location }) {
  const project = projectOf(loc);
  const range = useRange(loc);
  const [bucket, seconds] = bucketFor(range.to - range.from);
  const q = useQuery({
    queryKey: ['stats', project, range.from, range.to, bucket],
    queryFn: () => api<{ buckets: StatsBucket[] }>(`/api/v1/assessments?${qs({ project, from: range.from, to: range.to, bucket })}`),
  });
  const byName = useMemo(() => {
    const m = new Map<string, StatsBucket[]>();
    for (const b of q.data?.buckets ?? []) {
      const l = m.get(b.name);
      if (l) l.push(b);
      else m.set(b.name, [b]);
    }
    return m;
  }, [q.data]);
  return (
    <div className="page">
      <div className="toolbar">
        <RangePicker loc={loc} />
      </div>
      <h2>Quality over time</h2>
      <p className="muted">Pass rate per {bucket} bucket, by when the verdict was made. Click a bucket to list its failing traces.</p>
      <ErrorBox error={q.error} />
      {q.data && byName.size === 0 ? (
        <p className="empty">No feedback in this range. Configure scorers (README, “Evaluating production traces”) or add feedback on a trace.</p>
      ) : null}
      <div className="charts">
        {[...byName.entries()].map(([name, buckets]) => (
          <ScorerChart
            key={name}
            name={name}
            buckets={buckets}
            range={range}
            onBucket={(startMs) =>
              navigate(
                withParams(
                  loc,
                  { filter: `feedback.${name} = 'no'`, range: undefined, from: String(startMs), to: String(startMs + seconds * 1000), pt: undefined },
                  '/traces',
                ),
              )
            }
          />
        ))}
      </div>
    </div>
  );
}

function ScorerChart({
  name,
  buckets,
  range,
  onBucket,
}: {
  name: string;
  buckets: StatsBucket[];
  range: { from: number; to: number };
  onBucket: (startMs: number) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const totals = buckets.reduce((t, b) => ({ count: t.count + b.count, pass: t.pass + b.pass, fail: t.fail + b.fail, errors: t.errors + b.errors }), {
    count: 0,
    pass: 0,
    fail: 0,
    errors: 0,
  });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const xs = buckets.map((b) => Date.parse(b.start) / 1000);
    const rate = buckets.map((b) => (b.pass_rate === null ? null : b.pass_rate * 100));
    const fails = buckets.map((b) => b.fail);
    const plot = new uPlot(
      {
        width: el.clientWidth || 600,
        height: 180,
        scales: {
          x: { time: true, range: [range.from / 1000, range.to / 1000] },
          pct: { range: [0, 100] },
          n: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        axes: [{}, { scale: 'pct', values: (_u, v) => v.map((x) => `${x}%`) }, { side: 1, scale: 'n', grid: { show: false } }],
        series: [
          {},
          { label: 'pass rate', scale: 'pct', stroke: '#2e7d32', width: 2, points: { show: true, size: 6 } },
          { label: 'failed', scale: 'n', stroke: '#c62828', fill: 'rgba(198,40,40,0.15)', paths: uPlot.paths.bars?.({ size: [0.6, 40] }) },
        ],
        hooks: {
          ready: [
            (u) => {
              u.over.addEventListener('click', () => {
                const i = u.cursor.idx;
                if (i !== null && i !== undefined && buckets[i]) onBucket(Date.parse(buckets[i].start));
              });
            },
          ],
        },
      },
      [xs, rate, fails],
      el,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: 180 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [buckets, onBucket, range.from, range.to]);
  return (
    <div className="chart-card" data-testid="scorer-chart" data-name={name}>
      <h3>{name}</h3>
      <div className="facts small">
        <span>{fmtInt(totals.count)} verdicts</span>
        <span className="pass">{fmtInt(totals.pass)} pass</span>
        <span className="fail">{fmtInt(totals.fail)} fail</span>
        <span>{fmtInt(totals.errors)} errors</span>
        {totals.pass + totals.fail > 0 ? <span>{((totals.pass / (totals.pass + totals.fail)) * 100).toFixed(1)}% pass</span> : null}
        <span className="muted">{buckets[0] ? `since ${fmtTime(Date.parse(buckets[0].start))}` : ''}</span>
      </div>
      <div ref={ref} className="chart" />
    </div>
  );
}
