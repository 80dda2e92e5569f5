/** Three things to try, each showing one of Mailroom's ideas. */
export function Guide() {
  return (
    <section class="card guide">
      <div class="card-head">
        <h2>Try this</h2>
      </div>
      <p class="muted small">
        Steps 1-3 use the operator panels: log in first with the link <code>npm start</code> printed.
      </p>
      <ol>
        <li>
          <b>A service down loses nothing.</b> Stop <i>payments</i>, place two orders: they wait in its queue. Start it: both complete.
        </li>
        <li>
          <b>Failures are retried, then parked.</b> Order the poisoned apple: inventory fails, retries, dead-letters it. Switch the fault off and retry it from
          the Mailroom console.
        </li>
        <li>
          <b>RPC has a plan B.</b> Stop <i>inventory</i> and ask for a quote over gRPC: the breaker opens and the question is queued as a command, answered when
          inventory is back.
        </li>
        <li>
          <b>Contracts have versions.</b> Place an order with API v1: it publishes <code>OrderPlaced</code> v1, and every consumer upcasts it.
        </li>
      </ol>
    </section>
  );
}
