/** Formatting in the viewer's time zone and locale. */
const dateTime = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const thisYear = new Intl.DateTimeFormat(undefined, { month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** The year only when it is not this one: list columns stay narrow. */
export const fmtTime = (ms: number): string => {
  const d = new Date(ms);
  return (d.getFullYear() === new Date().getFullYear() ? thisYear : dateTime).format(d);
};
export const timeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

export function fmtDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1000)} s`;
}

export const fmtCost = (usd: number): string => (usd === 0 ? '$0' : usd < 0.01 ? `$${usd.toFixed(5)}` : `$${usd.toFixed(3)}`);
export const fmtInt = (n: number): string => n.toLocaleString();

/** Quick ranges, as URL values. */
export const RANGES: Record<string, number> = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};

/** The range a URL names: `range=1h` (ending now) or explicit `from`/`to` epoch ms; 24 h by default. */
export function rangeOf(params: URLSearchParams, now = Date.now()): { from: number; to: number; label: string } {
  const from = Number(params.get('from'));
  const to = Number(params.get('to'));
  if (params.get('from') && Number.isFinite(from)) {
    const end = params.get('to') && Number.isFinite(to) ? to : now;
    return { from, to: end, label: `${fmtTime(from)} – ${fmtTime(end)}` };
  }
  const r = params.get('range') ?? '24h';
  const span = RANGES[r] ?? RANGES['24h']!;
  return { from: now - span, to: now + 60_000, label: `last ${r}` };
}

/** For <input type="datetime-local">: local wall time without zone. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}
