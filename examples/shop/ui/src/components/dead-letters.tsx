import { useState } from 'preact/hooks';
import type { DeadLetterView } from '../../../src/gateway/api-types.js';
import { sendJson } from '../api.js';

function ago(iso: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return seconds < 60 ? `${seconds}s ago` : seconds < 3600 ? `${Math.round(seconds / 60)} min ago` : new Date(iso).toLocaleTimeString();
}

function Letter({ letter, onReplayed }: { letter: DeadLetterView; onReplayed(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const replay = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await sendJson('POST', `/api/dead-letters/${encodeURIComponent(letter.id)}/replay`);
      onReplayed();
    } catch (reason) {
      setError((reason as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li class="letter" data-testid="dead-letter" data-correlation-id={letter.correlationId}>
      <div class="letter-head">
        <b>{letter.type.replace('shop.', '')}</b>
        <span class="muted small">
          at {letter.endpoint} · {letter.attempts} attempts · {ago(letter.deadLetteredAt)}
        </span>
      </div>
      <code class="reason">{letter.reason}</code>
      <p class="error-message">{letter.errorMessage}</p>
      <div class="letter-foot">
        <span class="muted small" title={letter.correlationId}>
          order …{letter.correlationId.slice(-6)}
        </span>
        <button type="button" class="ghost go" disabled={busy} data-testid="replay" onClick={replay}>
          {busy ? 'Replaying…' : 'Replay'}
        </button>
      </div>
      {error && <p class="notice error">{error}</p>}
    </li>
  );
}

/** The dead-letter queues of every endpoint: why each message failed, and a replay button. */
export function DeadLetters({ letters, poison, onReplayed }: { letters: DeadLetterView[] | undefined; poison: boolean | undefined; onReplayed(): void }) {
  return (
    <section class="card">
      <div class="card-head">
        <h2>Dead letters</h2>
        {letters && letters.length > 0 && <span class="badge warn">{letters.length}</span>}
      </div>
      {letters?.length === 0 && <p class="muted">None. Order a poisoned apple while the poison fault is on to make one.</p>}
      {letters && letters.length > 0 && poison && <p class="hint">The poison fault is still on: a replay would fail again. Switch it off first.</p>}
      <ul class="letters">
        {letters?.map((letter) => (
          <Letter key={letter.id} letter={letter} onReplayed={onReplayed} />
        ))}
      </ul>
    </section>
  );
}
