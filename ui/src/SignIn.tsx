import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiFailure } from './api';
import { signIn } from './auth';

/**
 * Shown in place of the page when an API call answered 401. The key is checked with GET
 * /api/v1/auth/whoami before it is kept, so a mistyped one is said here rather than on every view.
 */
export function SignIn({ reason, project }: { reason: string | null; project: string }) {
  const client = useQueryClient();
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <section className="page sign-in" data-testid="sign-in">
      <h2>API key</h2>
      <p>This tracehouse wants an API key. An admin creates one for a project with:</p>
      <pre className="cmd">npx tracehouse keys create --project {project} --scope read,write</pre>
      <p className="muted">
        The key is kept in this tab only (session storage) and sent with every request; <b>sign out</b> (top right) forgets it.
      </p>
      {reason ? <p className="muted">The API answered: {reason}</p> : null}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const key = draft.trim();
          if (!key) return;
          setBusy(true);
          setError(null);
          try {
            const res = await fetch('/api/v1/auth/whoami', { headers: { authorization: `Bearer ${key}` } });
            const body = (await res.json().catch(() => null)) as { project?: string | null; error?: { message?: string } } | null;
            if (!res.ok) throw new ApiFailure(res.status, 'UNAUTHENTICATED', body?.error?.message ?? `HTTP ${res.status}`);
            signIn(key, body?.project ?? null);
            await client.resetQueries();
          } catch (err) {
            setError(err instanceof ApiFailure && err.status !== 0 ? `That key was not accepted: ${err.message}.` : (err as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        <input
          aria-label="API key"
          type="password"
          autoComplete="off"
          placeholder="paste the key"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          data-testid="api-key"
        />{' '}
        <button type="submit" disabled={busy || !draft.trim()}>
          Sign in
        </button>
      </form>
      {error ? (
        <div className="error-box" role="alert" data-testid="sign-in-error">
          {error}
        </div>
      ) : null}
    </section>
  );
}
