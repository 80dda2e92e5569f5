import { useState } from 'preact/hooks';
import { api } from './api.js';

/** The login form: the operator token printed at start (or MAILROOM_CONSOLE_TOKEN). The printed login link logs in without it. */
export function LoginForm({ onLogin }: { onLogin: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  return (
    <main class="login">
      <h1>Mailroom console</h1>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          try {
            await api('/login', { token });
            onLogin();
          } catch (e) {
            setError((e as Error).message);
          }
        }}
      >
        <label>
          Operator token
          <input type="password" name="token" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} autoComplete="current-password" />
        </label>
        <button type="submit">Log in</button>
        {error && <p class="error">{error}</p>}
        <p class="hint">Open the login link the console printed at start, or paste the token (MAILROOM_CONSOLE_TOKEN).</p>
      </form>
    </main>
  );
}
