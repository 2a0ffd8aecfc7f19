import { useSyncExternalStore } from 'react';
import { credentials } from './api';

/**
 * The API key the UI sends as `Authorization: Bearer <key>` when the API has keys on (`auth.mode`).
 * Kept in sessionStorage, not localStorage: it is a secret, so it lives only as long as the tab and is
 * never left behind on a shared machine or read by other tabs; signing in again per tab is the cost.
 * The key's project (from GET /api/v1/auth/whoami) is kept beside it to default the project box.
 */
const KEY = 'tracehouse.key';
const KEY_PROJECT = 'tracehouse.key_project';

export interface AuthState {
  key: string | null;
  /** The key's own project; null for an admin key (every project) or no key. */
  project: string | null;
  /** Why the sign-in is shown (an API call answered 401); null while no call was refused. */
  refused: string | null;
}

const listeners = new Set<() => void>();
let state: AuthState = { key: sessionStorage.getItem(KEY), project: sessionStorage.getItem(KEY_PROJECT), refused: null };
const set = (next: AuthState): void => {
  state = next;
  for (const l of listeners) l();
};

export const currentKey = (): string | null => state.key;
export const keyProject = (): string | null => state.project;

export function signIn(key: string, project: string | null): void {
  sessionStorage.setItem(KEY, key);
  if (project === null) sessionStorage.removeItem(KEY_PROJECT);
  else sessionStorage.setItem(KEY_PROJECT, project);
  set({ key, project, refused: null });
}

/** Forgets the key; `refused` says why when the API refused it (the sign-in shows then). */
export function signOut(refused: string | null = null): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(KEY_PROJECT);
  set({ key: null, project: null, refused });
}

/** Called by the fetch wrapper on a 401: the key is missing or no longer accepted. */
export function unauthenticated(message: string): void {
  if (state.refused === null || state.key !== null) signOut(message);
}

credentials.key = currentKey;
credentials.project = keyProject;
credentials.refused = unauthenticated;

export function useAuth(): AuthState {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}
