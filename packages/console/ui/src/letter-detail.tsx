import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, type ContractInfo, confirmable, type LetterView } from './api.js';
import { useConfirm } from './confirm-dialog.js';
import { when } from './use-poll.js';

interface Detail {
  letter: LetterView;
  contract?: ContractInfo;
  editedFromArchiveId?: string;
  archivedAt?: string;
  archivedBy?: string;
  editedTo?: string;
}

/** One dead letter (or archived letter): headers, body, error, stack, attempts, trace id; retry, edit and retry, archive, purge. */
export function LetterDetail({ id, archived, onJob }: { id: string; archived: boolean; onJob: () => void }) {
  const [detail, setDetail] = useState<Detail>();
  const [error, setError] = useState<string>();
  const [editing, setEditing] = useState<string>();
  const [editError, setEditError] = useState<string>();
  const [result, setResult] = useState<string>();
  const ask = useConfirm();

  useEffect(() => {
    setDetail(undefined);
    setEditing(undefined);
    api<Detail>(`/api/${archived ? 'archive' : 'letters'}/${encodeURIComponent(id)}`).then(setDetail, (e: Error) => setError(e.message));
  }, [id, archived]);

  if (error) return <p class="error">{error}</p>;
  if (!detail) return <p>Loading…</p>;
  const { letter, contract } = detail;
  const back = archived ? '#archive' : '#failures';

  const send = async () => {
    setEditError(undefined);
    try {
      const sent = await api<{ newMessageId: string; checkedAgainst: string }>(`/api/letters/${encodeURIComponent(id)}/edit-and-retry`, { body: editing });
      setResult(
        `Sent as a new message ${sent.newMessageId} (checked against ${sent.checkedAgainst === 'contract' ? 'the contract' : 'JSON only'}); the original is archived.`,
      );
      setEditing(undefined);
    } catch (e) {
      setEditError(e instanceof ApiError ? `${e.status}: ${e.message}` : (e as Error).message);
    }
  };

  return (
    <section class="detail" data-testid="letter-detail">
      <p>
        <a href={back}>← back</a>
      </p>
      <h2>
        {letter.type} <small>{letter.messageId}</small>
      </h2>
      {archived && (
        <p class="note">
          Archived {when(detail.archivedAt)} by {detail.archivedBy}
          {detail.editedTo && (
            <>
              {' '}
              · edited and resent as <code data-testid="edited-to">{detail.editedTo}</code>
            </>
          )}
        </p>
      )}
      {letter.editedFrom && (
        <p class="note">
          Edited from message <code>{letter.editedFrom}</code>
          {detail.editedFromArchiveId && (
            <>
              {' '}
              (<a href={`#archived/${encodeURIComponent(detail.editedFromArchiveId)}`}>original in the archive</a>)
            </>
          )}
        </p>
      )}
      {result && (
        <p class="ok" data-testid="edit-result">
          {result} <a href="#failures">Back to failures</a>
        </p>
      )}
      <dl class="facts">
        <dt>Endpoint</dt>
        <dd>{letter.endpoint}</dd>
        <dt>Reason</dt>
        <dd>
          <code>{letter.reason}</code>
        </dd>
        <dt>Error</dt>
        <dd class="message">{letter.errorMessage}</dd>
        <dt>Attempts</dt>
        <dd>{letter.attempts}</dd>
        <dt>First failure</dt>
        <dd>{when(letter.firstFailureAt)}</dd>
        <dt>Last failure</dt>
        <dd>{when(letter.lastFailureAt)}</dd>
        <dt>Dead-lettered</dt>
        <dd>{when(letter.deadLetteredAt)}</dd>
        <dt>Trace id</dt>
        <dd>{letter.traceId ? <code data-testid="trace-id">{letter.traceId}</code> : '—'}</dd>
      </dl>
      {!archived && !result && (
        <div class="actions">
          <button
            type="button"
            data-testid="retry-one"
            onClick={async () => {
              await api('/api/retry', { ids: [id] });
              onJob();
              setResult('Retry started.');
            }}
          >
            Retry
          </button>
          <button type="button" data-testid="edit" onClick={() => setEditing(letter.body)}>
            Edit and retry…
          </button>
          <button
            type="button"
            onClick={async () => {
              if (await confirmable('/api/archive', { ids: [id] }, ask)) setResult('Archived.');
            }}
          >
            Archive
          </button>
          <button
            type="button"
            class="danger"
            onClick={async () => {
              if (await confirmable('/api/purge', { ids: [id] }, ask)) setResult('Purged.');
            }}
          >
            Purge
          </button>
        </div>
      )}
      {editing !== undefined && (
        <div class="edit">
          <p class={contract?.known ? 'note' : 'warn'} data-testid="contract-note">
            {contract?.note}
          </p>
          <textarea data-testid="edit-body" rows={14} value={editing} onInput={(e) => setEditing((e.target as HTMLTextAreaElement).value)} spellcheck={false} />
          {editError && (
            <p class="error" data-testid="edit-error">
              {editError}
            </p>
          )}
          <button type="button" data-testid="edit-send" onClick={send}>
            Validate and send as a new message
          </button>
          <button type="button" onClick={() => setEditing(undefined)}>
            Cancel
          </button>
          {contract?.jsonSchema && (
            <details>
              <summary>Contract schema</summary>
              <pre>{JSON.stringify(contract.jsonSchema, null, 2)}</pre>
            </details>
          )}
        </div>
      )}
      <h3>Body</h3>
      <pre class="body" data-testid="letter-body">
        {letter.body}
      </pre>
      <h3>Headers</h3>
      <table class="headers">
        <tbody>
          {Object.entries(letter.headers).map(([name, value]) => (
            <tr key={name}>
              <th>{name}</th>
              <td>
                <code>{value}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {letter.errorStack && (
        <>
          <h3>Stack</h3>
          <pre class="stack">{letter.errorStack}</pre>
        </>
      )}
    </section>
  );
}
