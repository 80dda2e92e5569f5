import type { LetterSummary } from './api.js';
import { usePoll, when } from './use-poll.js';

/** Letters taken out of the dead-letter queue and kept: archived by an operator, or originals of edit-and-retry. */
export function ArchiveView() {
  const { data, error } = usePoll<{ letters: LetterSummary[] }>('/api/archive');
  return (
    <section>
      <h2>Archive</h2>
      <p class="hint">Archived letters and the originals of edited messages; nothing here is ever deleted by the console.</p>
      {error && <p class="error">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>Message</th>
            <th>Type</th>
            <th>Endpoint</th>
            <th>Archived</th>
            <th>By</th>
            <th>Edited into</th>
          </tr>
        </thead>
        <tbody>
          {data?.letters.map((letter) => (
            <tr key={letter.id} data-testid="archive-row">
              <td>
                <a href={`#archived/${encodeURIComponent(letter.id)}`}>{letter.messageId}</a>
              </td>
              <td>{letter.type}</td>
              <td>{letter.endpoint}</td>
              <td>{when(letter.archivedAt)}</td>
              <td>{letter.archivedBy}</td>
              <td>{letter.editedTo ? <code>{letter.editedTo}</code> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
