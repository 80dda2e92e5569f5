import { useEffect, useState } from 'preact/hooks';
import { api, setUnauthorizedHandler } from './api.js';
import { ArchiveView } from './archive-view.js';
import { AuditView } from './audit-view.js';
import { ConfirmProvider } from './confirm-dialog.js';
import { EndpointsView } from './endpoints-view.js';
import { FailuresView } from './failures-view.js';
import { GraphView } from './graph-view.js';
import { JobsBar } from './jobs-bar.js';
import { LetterDetail } from './letter-detail.js';
import { LoginForm } from './login-form.js';

type Tab = 'failures' | 'endpoints' | 'graph' | 'archive' | 'audit';
const TABS: { id: Tab; label: string }[] = [
  { id: 'failures', label: 'Failures' },
  { id: 'endpoints', label: 'Endpoints & queues' },
  { id: 'graph', label: 'Choreography' },
  { id: 'archive', label: 'Archive' },
  { id: 'audit', label: 'Audit log' },
];

/** Where the UI is: a tab, or one letter (`#letter/<id>`, `#archived/<id>`), kept in the URL hash so links work. */
function readHash(): { tab: Tab; letter?: string; archived?: boolean } {
  const [head, id] = location.hash.replace(/^#/, '').split('/');
  if ((head === 'letter' || head === 'archived') && id)
    return { tab: head === 'letter' ? 'failures' : 'archive', letter: decodeURIComponent(id), archived: head === 'archived' };
  return { tab: TABS.some((t) => t.id === head) ? (head as Tab) : 'failures' };
}

export function App() {
  const [session, setSession] = useState<'unknown' | 'in' | 'out'>('unknown');
  const [where, setWhere] = useState(readHash);
  const [jobsVersion, setJobsVersion] = useState(0);

  useEffect(() => {
    setUnauthorizedHandler(() => setSession('out'));
    api<{ authenticated: boolean }>('/session').then(
      (s) => setSession(s.authenticated ? 'in' : 'out'),
      () => setSession('out'),
    );
    const onHash = () => setWhere(readHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  if (session === 'unknown') return <main class="loading">Loading…</main>;
  if (session === 'out') return <LoginForm onLogin={() => setSession('in')} />;
  return (
    <ConfirmProvider>
      <header class="top">
        <h1>Mailroom console</h1>
        <nav>
          {TABS.map((t) => (
            <a key={t.id} href={`#${t.id}`} class={where.tab === t.id && !where.letter ? 'active' : ''} data-tab={t.id}>
              {t.label}
            </a>
          ))}
        </nav>
        <button
          type="button"
          class="link"
          onClick={async () => {
            await api('/logout', {});
            setSession('out');
          }}
        >
          Log out
        </button>
      </header>
      <JobsBar version={jobsVersion} />
      <main>
        {where.letter ? (
          <LetterDetail id={where.letter} archived={where.archived === true} onJob={() => setJobsVersion((v) => v + 1)} />
        ) : where.tab === 'failures' ? (
          <FailuresView onJob={() => setJobsVersion((v) => v + 1)} />
        ) : where.tab === 'endpoints' ? (
          <EndpointsView />
        ) : where.tab === 'graph' ? (
          <GraphView />
        ) : where.tab === 'archive' ? (
          <ArchiveView />
        ) : (
          <AuditView />
        )}
      </main>
    </ConfirmProvider>
  );
}
