import type { AuditEntry } from './api.js';
import { usePoll, when } from './use-poll.js';

/** The audit log: every action with who, when, what and which ids (also appended to audit.jsonl). */
export function AuditView() {
  const { data, error } = usePoll<{ entries: AuditEntry[] }>('/api/audit', 3000);
  return (
    <section>
      <h2>Audit log</h2>
      {error && <p class="error">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>What</th>
            <th>Ids</th>
            <th>Outcome</th>
          </tr>
        </thead>
        <tbody>
          {data?.entries.map((entry, i) => (
            <tr key={`${entry.at}-${i}`} data-testid="audit-row">
              <td>{when(entry.at)}</td>
              <td>
                <code>{entry.who}</code>
              </td>
              <td>{entry.action}</td>
              <td class="ids">{entry.ids ? `${entry.ids.slice(0, 3).join(', ')}${entry.ids.length > 3 ? ` … (${entry.ids.length})` : ''}` : ''}</td>
              <td>{entry.outcome ?? entry.status ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
