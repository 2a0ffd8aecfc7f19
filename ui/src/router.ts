import { useSyncExternalStore } from 'react';

/** A tiny history router: the whole view (page, project, range, filter, selection) lives in the URL so it can be shared. */
const listeners = new Set<() => void>();
const notify = (): void => {
  for (const l of listeners) l();
};
window.addEventListener('popstate', notify);

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  notify();
}

export interface Location {
  path: string;
  params: URLSearchParams;
}

let cached: { key: string; loc: Location } | null = null;
const snapshot = (): Location => {
  const key = location.pathname + location.search;
  if (cached?.key !== key) cached = { key, loc: { path: location.pathname, params: new URLSearchParams(location.search) } };
  return cached.loc;
};

export function useLocation(): Location {
  return useSyncExternalStore((l) => {
    listeners.add(l);
    return () => listeners.delete(l);
  }, snapshot);
}

/** The current URL with some query parameters changed (empty/undefined removes them). */
export function withParams(loc: Location, changes: Record<string, string | undefined>, path = loc.path): string {
  const p = new URLSearchParams(loc.params);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === '') p.delete(k);
    else p.set(k, v);
  }
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}
