import { useState } from 'preact/hooks';
import type { Faults } from '../../../src/gateway/api-types.js';
import { sendJson } from '../api.js';

/** The poison switch: while on, inventory's reservation handler fails on the poisoned apple. */
export function FaultCard({ faults, onChange }: { faults: Faults | undefined; onChange(): void }) {
  const [busy, setBusy] = useState(false);
  const toggle = async (poison: boolean) => {
    setBusy(true);
    try {
      await sendJson('PUT', '/api/faults', { poison });
    } finally {
      setBusy(false);
      onChange();
    }
  };
  return (
    <section class="card">
      <div class="card-head">
        <h2>Fault injection</h2>
      </div>
      <label class="switch-row">
        <span>
          <b>Poison fault</b>
          <span class="muted small block">While on, inventory's handler throws for the poisoned apple: the message is retried, then dead-lettered.</span>
        </span>
        <input
          type="checkbox"
          role="switch"
          aria-checked={faults?.poison ?? false}
          class="switch"
          data-testid="poison-toggle"
          checked={faults?.poison ?? false}
          disabled={busy || !faults}
          onChange={(e) => toggle(e.currentTarget.checked)}
        />
      </label>
    </section>
  );
}
