import { useEffect, useMemo, useState } from 'react';
import { ApiFailure, type Json } from './api';
import { keyProject, signOut } from './auth';
import { fmtTime, RANGES, rangeOf, timeZone, toLocalInput } from './format';
import { type Location, navigate, withParams } from './router';

/** The URL's project, else the signed-in key's own (a one-project key can read no other), else the last one. */
export const projectOf = (loc: Location): string => loc.params.get('project') || keyProject() || localStorage.getItem('tracehouse.project') || 'default';

/** The range of the URL, computed once per URL so queries keep their keys while the view stays. */
export function useRange(loc: Location): { from: number; to: number; label: string } {
  const key = `${loc.params.get('range')}|${loc.params.get('from')}|${loc.params.get('to')}`;
  // biome-ignore lint/correctness/useExhaustiveDependencies: recomputed only when the URL's range changes
  return useMemo(() => rangeOf(loc.params), [key]);
}

export function RangePicker({ loc }: { loc: Location }) {
  const range = useRange(loc);
  const custom = loc.params.has('from');
  const [from, setFrom] = useState(toLocalInput(range.from));
  const [to, setTo] = useState(toLocalInput(Math.min(range.to, Date.now())));
  const active = custom ? '' : (loc.params.get('range') ?? '24h');
  return (
    <fieldset className="range" aria-label="time range">
      {Object.keys(RANGES).map((r) => (
        <button
          type="button"
          key={r}
          className={r === active ? 'chip on' : 'chip'}
          onClick={() => navigate(withParams(loc, { range: r, from: undefined, to: undefined, pt: undefined }))}
        >
          {r}
        </button>
      ))}
      <input aria-label="from" type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
      <span>–</span>
      <input aria-label="to" type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
      <button
        type="button"
        className={custom ? 'chip on' : 'chip'}
        onClick={() => {
          const f = new Date(from).getTime();
          const t = new Date(to).getTime();
          if (Number.isFinite(f) && Number.isFinite(t) && f < t) navigate(withParams(loc, { range: undefined, from: String(f), to: String(t), pt: undefined }));
        }}
      >
        apply
      </button>
      <span className="muted tz" title="dates are shown in your time zone">
        {timeZone()}
      </span>
    </fieldset>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiFailure ? error : null;
  return (
    <div className="error-box" role="alert" data-testid="error">
      {e?.code === 'UNREACHABLE' ? (
        <>
          <b>The tracehouse API is not answering.</b> Is <code>tracehouse start</code> running? Retrying when you reload.
        </>
      ) : e?.code === 'PERMISSION_DENIED' ? (
        <>
          <b>
            {e.details.reason === 'wrong_project'
              ? `This key cannot ${e.details.write ? 'write to' : 'read'} project ${String(e.details.project)}.`
              : `This key cannot do that: ${e.message}.`}
          </b>{' '}
          {keyProject() ? (
            <>
              Open{' '}
              <a href={`/traces?project=${encodeURIComponent(keyProject() ?? '')}`} data-testid="key-project">
                {keyProject()}
              </a>{' '}
              (the key's project), or{' '}
            </>
          ) : (
            'Open a project the key belongs to, or '
          )}
          <button type="button" className="link" onClick={() => signOut('Sign in with another key.')}>
            sign in with another key
          </button>
          .
        </>
      ) : (
        <>
          <b>{e?.code ?? 'Error'}</b>: {(error as Error).message}
        </>
      )}
    </div>
  );
}

/** pass/fail chips for assessment values (yes/true pass, no/false fail, anything else as its value). */
export function verdictClass(v: Json): 'pass' | 'fail' | 'other' | 'none' {
  if (v === null) return 'none';
  const s = typeof v === 'string' ? v.toLowerCase() : v;
  if (s === 'yes' || s === true || s === 'true' || s === 'pass') return 'pass';
  if (s === 'no' || s === false || s === 'false' || s === 'fail') return 'fail';
  return 'other';
}

export function Chip({ name, value }: { name: string; value: Json }) {
  const c = verdictClass(value);
  const shown = value === null ? 'no verdict (the scorer could not judge)' : typeof value === 'string' ? value : JSON.stringify(value);
  return (
    <span className={`chip verdict ${c}`} title={`${name}: ${shown}`}>
      {c === 'pass' ? '✓' : c === 'fail' ? '✗' : c === 'none' ? '!' : '•'} {name}
      {c === 'other' ? `: ${shown.slice(0, 12)}` : ''}
    </span>
  );
}

export const Time = ({ ms }: { ms: number }) => <time dateTime={new Date(ms).toISOString()}>{fmtTime(ms)}</time>;

/** Remember the last project so a bare URL opens it. */
export function useRememberProject(project: string): void {
  useEffect(() => {
    localStorage.setItem('tracehouse.project', project);
  }, [project]);
}
