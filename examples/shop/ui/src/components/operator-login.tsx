import { useState } from 'preact/hooks';
import { ApiError, sendJson } from '../api.js';

/** `GET /api/session`: whether this browser holds an operator session. */
export interface SessionInfo {
  readonly authenticated: boolean;
  readonly expiresAt?: string;
}

/**
 * The operator's gate: logged out, a token field (or the login link `npm start` printed) that opens
 * the services, fault and dead-letter panels; logged in, when the session ends and a way to log out.
 */
export function OperatorLogin({ session, onChange }: { session: SessionInfo | undefined; onChange(): void }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const send = async (path: string, body: unknown) => {
    setBusy(true);
    setError(undefined);
    try {
      await sendJson('POST', path, body);
      setToken('');
    } catch (reason) {
      setError(reason instanceof ApiError && reason.status === 401 ? 'That is not the operator token.' : (reason as Error).message);
    } finally {
      setBusy(false);
      onChange();
    }
  };
  if (session?.authenticated) {
    return (
      <section class="card operator" data-testid="operator-session">
        <div class="card-head">
          <h2>Operator</h2>
          <button type="button" class="ghost" disabled={busy} data-testid="operator-logout" onClick={() => send('/api/logout', {})}>
            Log out
          </button>
        </div>
        <p class="muted small">Logged in{session.expiresAt && ` until ${new Date(session.expiresAt).toLocaleTimeString()}`}: every action is audited.</p>
      </section>
    );
  }
  return (
    <section class="card operator" data-testid="operator-login">
      <div class="card-head">
        <h2>Operator</h2>
        <span class="muted small">services, faults, dead letters</span>
      </div>
      <p class="hint">
        Log in to see and steer the services, the poison switch and the dead letters: open the login link <code>npm start</code> printed, or paste the token (
        <code>SHOP_ADMIN_TOKEN</code>).
      </p>
      <form
        class="checkout"
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim() !== '') void send('/login', { token: token.trim() });
        }}
      >
        <label>
          <span>Operator token</span>
          <input type="password" autocomplete="off" value={token} data-testid="operator-token" onInput={(e) => setToken(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={busy || token.trim() === ''} data-testid="operator-submit">
          Log in
        </button>
      </form>
      {error && <p class="notice error">{error}</p>}
    </section>
  );
}
