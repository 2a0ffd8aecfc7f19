import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { signOut, useAuth } from './auth';
import { projectOf, useRememberProject } from './common';
import { HealthPage } from './pages/HealthPage';
import { QualityPage } from './pages/QualityPage';
import { SessionPage, SessionsPage } from './pages/SessionsPage';
import { TracePage } from './pages/TracePage';
import { TracesPage } from './pages/TracesPage';
import { navigate, useLocation, withParams } from './router';
import { SignIn } from './SignIn';

const NAV: Array<[string, string]> = [
  ['/traces', 'Traces'],
  ['/sessions', 'Sessions'],
  ['/quality', 'Quality'],
  ['/evaluator', 'Evaluator health'],
];

export function App() {
  const loc = useLocation();
  const project = projectOf(loc);
  useRememberProject(project);
  const auth = useAuth();
  const client = useQueryClient();
  const [draft, setDraft] = useState(project);
  // The box follows the project shown (a link, or a signed-in key's own project).
  useEffect(() => setDraft(project), [project]);
  const path = loc.path === '/' ? '/traces' : loc.path;
  const trace = /^\/traces\/([0-9a-f]{32})$/.exec(path);
  const session = /^\/sessions\/(.+)$/.exec(path);
  // Links keep project and range; a trace's own selection does not follow to other pages.
  const keep = (to: string): string =>
    withParams(loc, { span: undefined, tab: undefined, filter: undefined, pt: undefined, sort: undefined, dir: undefined }, to);
  let page: React.ReactNode;
  if (auth.key === null && auth.refused !== null) page = <SignIn reason={auth.refused} project={project} />;
  else if (trace) page = <TracePage loc={loc} traceId={trace[1]!} />;
  else if (session) page = <SessionPage loc={loc} sessionId={decodeURIComponent(session[1]!)} />;
  else if (path === '/sessions') page = <SessionsPage loc={loc} />;
  else if (path === '/quality') page = <QualityPage loc={loc} />;
  else if (path === '/evaluator') page = <HealthPage loc={loc} />;
  else if (path === '/traces') page = <TracesPage loc={loc} />;
  else
    page = (
      <p className="page">
        No such page. <a href="/traces">Traces</a>
      </p>
    );
  return (
    <>
      <header className="top">
        <span className="brand">tracehouse</span>
        <nav>
          {NAV.map(([to, label]) => (
            <a
              key={to}
              href={keep(to)}
              className={path.startsWith(to) ? 'on' : ''}
              onClick={(e) => {
                e.preventDefault();
                navigate(keep(to));
              }}
            >
              {label}
            </a>
          ))}
        </nav>
        <form
          className="project"
          onSubmit={(e) => {
            e.preventDefault();
            navigate(withParams(loc, { project: draft.trim() || 'default', pt: undefined, span: undefined }));
          }}
        >
          <label>
            project <input aria-label="project" value={draft} onChange={(e) => setDraft(e.target.value)} />
          </label>
        </form>
        {auth.key !== null ? (
          <span className="signed-in" data-testid="signed-in">
            key{auth.project ? ` for ${auth.project}` : ' (every project)'}{' '}
            <button
              type="button"
              className="link"
              onClick={() => {
                signOut();
                // Drops what the key could read; the views ask again and a keyed API shows the sign-in.
                void client.resetQueries();
              }}
            >
              sign out
            </button>
          </span>
        ) : null}
      </header>
      <main>{page}</main>
    </>
  );
}
