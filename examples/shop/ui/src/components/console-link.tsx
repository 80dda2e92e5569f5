import type { DeadLetterView } from '../../../src/gateway/api-types.js';

/** Dead letters are handled in the Mailroom console (started by the supervisor): how many wait, and the link there. */
export function ConsoleLink({
  letters,
  consoleUrl,
  poison,
}: {
  letters: DeadLetterView[] | undefined;
  consoleUrl: string | undefined;
  poison: boolean | undefined;
}) {
  return (
    <section class="card">
      <div class="card-head">
        <h2>Dead letters</h2>
        {letters && letters.length > 0 && (
          <span class="badge warn" data-testid="dead-letter-count">
            {letters.length}
          </span>
        )}
      </div>
      {letters?.length === 0 && <p class="muted">None. Order a poisoned apple while the poison fault is on to make one.</p>}
      {letters && letters.length > 0 && poison && <p class="hint">The poison fault is still on: a retry would fail again. Switch it off first.</p>}
      {consoleUrl ? (
        <p>
          Group, inspect, retry, edit and archive them in the{' '}
          <a href={`${consoleUrl}/#failures`} target="_blank" rel="noopener" data-testid="console-link">
            Mailroom console
          </a>{' '}
          (the same operator token logs you in).
        </p>
      ) : (
        <p class="muted">Start the Mailroom console to act on them: npm run mailroom -- console</p>
      )}
    </section>
  );
}
