import { useEffect, useState } from 'preact/hooks';
import { api, confirmable, type Group, type LetterSummary } from './api.js';
import { useConfirm } from './confirm-dialog.js';
import { ago, when } from './use-poll.js';

const PAGE_SIZE = 25;

interface GroupsPage {
  groups: Group[];
  total: number;
  letters: number;
  computedAt: string;
  refreshing: boolean;
  nextCursor?: string;
}

/** Failure groups, newest first, with a cursor to load more; a group opens to its letters. */
export function FailuresView({ onJob }: { onJob: () => void }) {
  const [groups, setGroups] = useState<Group[]>([]);
  const [meta, setMeta] = useState<{ total: number; letters: number; computedAt: string; nextCursor?: string }>();
  const [open, setOpen] = useState<string>();
  const [error, setError] = useState<string>();
  const [version, setVersion] = useState(0);
  /** Counts the answers served from an old snapshot in a row (0: the last one was current). */
  const [refreshing, setRefreshing] = useState(0);
  const [cutoff, setCutoff] = useState('');
  const ask = useConfirm();

  const load = async (cursor?: string, fresh = false) => {
    try {
      const page = await api<GroupsPage>(`/api/groups?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}${fresh ? '&fresh=1' : ''}`);
      setGroups((previous) => (cursor ? [...previous, ...page.groups] : page.groups));
      setMeta({ total: page.total, letters: page.letters, computedAt: page.computedAt, ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) });
      setError(undefined);
      if (!cursor) setRefreshing(page.refreshing ? (n) => n + 1 : 0);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  // The first load may be served from the server's snapshot of the groups (an old one while it groups again); Refresh and actions ask for fresh ones.
  useEffect(() => {
    void load(undefined, version > 0);
  }, [version]);
  // An old snapshot was served while the server groups again: read the first page again shortly (each such answer asks once more).
  useEffect(() => {
    if (refreshing === 0) return;
    const timer = setTimeout(() => void load(), 1000);
    return () => clearTimeout(timer);
  }, [refreshing]);
  // New failures show up on their own: the first page is read again every 5 s (not once more pages are loaded).
  const morePages = groups.length > PAGE_SIZE;
  useEffect(() => {
    if (morePages) return;
    const timer = setInterval(() => void load(), 5000);
    return () => clearInterval(timer);
  }, [morePages]);

  const act = async (run: () => Promise<unknown>) => {
    try {
      await run();
      onJob();
      setTimeout(() => setVersion((v) => v + 1), 500);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <section>
      <div class="toolbar">
        <h2>
          Failure groups{' '}
          {meta && (
            <small data-testid="groups-summary">
              {meta.total} groups · {meta.letters} dead letters ·{' '}
              <span title={when(meta.computedAt)} data-testid="groups-computed-at">
                grouped {ago(meta.computedAt)}
              </span>
            </small>
          )}
        </h2>
        <button type="button" onClick={() => setVersion((v) => v + 1)}>
          Refresh
        </button>
        <span class="spacer" />
        <label>
          Retry all dead-lettered before{' '}
          <input type="datetime-local" value={cutoff} onInput={(e) => setCutoff((e.target as HTMLInputElement).value)} data-testid="cutoff" />
        </label>
        <button
          type="button"
          disabled={cutoff === ''}
          data-testid="retry-before"
          onClick={() => act(() => api('/api/retry', { before: new Date(cutoff).toISOString() }))}
        >
          Retry
        </button>
      </div>
      {error && <p class="error">{error}</p>}
      {groups.length === 0 && meta && <p class="empty">No dead letters. 🎉</p>}
      <table class="groups">
        <thead>
          <tr>
            <th>Count</th>
            <th>Failure</th>
            <th>Endpoints</th>
            <th>Types</th>
            <th>First seen</th>
            <th>Last seen</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {groups.map((group) => (
            <>
              <tr key={group.fingerprint} class="group" data-testid="group-row" data-types={group.types.join(',')}>
                <td class="count" data-testid="group-count">
                  {group.count}
                </td>
                <td>
                  <button type="button" class="link" onClick={() => setOpen(open === group.fingerprint ? undefined : group.fingerprint)}>
                    <code>{group.reason}</code>
                  </button>
                  <div class="message">{group.message}</div>
                  {group.topFrame && <div class="frame">{group.topFrame}</div>}
                </td>
                <td>{group.endpoints.join(', ')}</td>
                <td>{group.types.join(', ')}</td>
                <td title={when(group.firstSeen)}>{ago(group.firstSeen)}</td>
                <td title={when(group.lastSeen)}>{ago(group.lastSeen)}</td>
                <td class="actions">
                  <button type="button" data-testid="retry-group" onClick={() => act(() => api('/api/retry', { fingerprint: group.fingerprint }))}>
                    Retry group
                  </button>
                  <button type="button" onClick={() => act(() => confirmable('/api/archive', { fingerprint: group.fingerprint }, ask))}>
                    Archive
                  </button>
                  <button
                    type="button"
                    class="danger"
                    data-testid="purge-group"
                    onClick={() => act(() => confirmable('/api/purge', { fingerprint: group.fingerprint }, ask))}
                  >
                    Purge
                  </button>
                </td>
              </tr>
              {open === group.fingerprint && (
                <tr key={`${group.fingerprint}-letters`}>
                  <td colSpan={7}>
                    <GroupLetters fingerprint={group.fingerprint} onAct={act} />
                  </td>
                </tr>
              )}
            </>
          ))}
        </tbody>
      </table>
      {meta?.nextCursor && (
        <button type="button" onClick={() => load(meta.nextCursor)}>
          Load more groups
        </button>
      )}
    </section>
  );
}

/** The letters of one group, newest first, selectable for retry. */
function GroupLetters({ fingerprint, onAct }: { fingerprint: string; onAct: (run: () => Promise<unknown>) => Promise<void> }) {
  const [letters, setLetters] = useState<LetterSummary[]>([]);
  const [next, setNext] = useState<string>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const load = async (cursor?: string) => {
    const page = await api<{ letters: LetterSummary[]; nextCursor?: string }>(
      `/api/letters?limit=20&fingerprint=${encodeURIComponent(fingerprint)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    setLetters((previous) => (cursor ? [...previous, ...page.letters] : page.letters));
    setNext(page.nextCursor);
  };
  useEffect(() => {
    void load();
  }, [fingerprint]);
  const toggle = (id: string) => {
    const copy = new Set(selected);
    if (copy.has(id)) copy.delete(id);
    else copy.add(id);
    setSelected(copy);
  };
  return (
    <div class="letters">
      <button type="button" disabled={selected.size === 0} data-testid="retry-selected" onClick={() => onAct(() => api('/api/retry', { ids: [...selected] }))}>
        Retry selected ({selected.size})
      </button>
      <table>
        <tbody>
          {letters.map((letter) => (
            <tr key={letter.id} data-testid="letter-row">
              <td>
                <input type="checkbox" checked={selected.has(letter.id)} onChange={() => toggle(letter.id)} />
              </td>
              <td>
                <a href={`#letter/${encodeURIComponent(letter.id)}`} data-testid="letter-link">
                  {letter.messageId}
                </a>
              </td>
              <td>{letter.type}</td>
              <td>{letter.endpoint}</td>
              <td>{letter.attempts} attempts</td>
              <td title={when(letter.deadLetteredAt)}>{ago(letter.deadLetteredAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next && (
        <button type="button" onClick={() => load(next)}>
          More letters
        </button>
      )}
    </div>
  );
}
