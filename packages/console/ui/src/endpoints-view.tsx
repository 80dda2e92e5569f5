import type { Heartbeat, QueueInfo } from './api.js';
import { ago, usePoll } from './use-poll.js';

function age(ms: number | undefined): string {
  if (ms === undefined) return 'unknown';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** Queues (depth, in flight, consumers, oldest age, dead letters) and endpoint instances from their heartbeats (alive or stale), refreshed every second. */
export function EndpointsView() {
  const { data, error } = usePoll<{ queues: QueueInfo[]; heartbeats: Heartbeat[] }>('/api/endpoints', 1000);
  return (
    <section>
      <h2>Endpoints and queues</h2>
      {error && <p class="error">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>Endpoint</th>
            <th>Queue</th>
            <th>Depth</th>
            <th>In flight</th>
            <th>Consumers</th>
            <th>Oldest message</th>
            <th>Dead letters</th>
          </tr>
        </thead>
        <tbody>
          {data?.queues.map((q) => (
            <tr key={q.name} data-testid="queue-row">
              <td>{q.endpoint}</td>
              <td>
                <code>{q.name}</code>
              </td>
              <td>{q.depth}</td>
              <td>{q.inFlight ?? '—'}</td>
              <td>{q.consumers ?? '—'}</td>
              <td>{age(q.oldestMessageAgeMs)}</td>
              <td>{q.deadLetters}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Instances (heartbeats)</h2>
      {data && data.heartbeats.length === 0 && <p class="empty">No heartbeats received yet: endpoints publish one every few seconds once started.</p>}
      <table>
        <thead>
          <tr>
            <th>State</th>
            <th>Endpoint</th>
            <th>Instance</th>
            <th>Host / pid</th>
            <th>Version</th>
            <th>Last heartbeat</th>
            <th>In flight / concurrency</th>
            <th>Breakers</th>
          </tr>
        </thead>
        <tbody>
          {data?.heartbeats.map((h) => (
            <tr key={h.instanceId} data-testid="instance-row" data-endpoint={h.endpoint} data-state={h.alive ? 'alive' : 'stale'}>
              <td>
                <span class={h.alive ? 'pill alive' : 'pill stale'}>{h.alive ? 'alive' : 'stale'}</span>
              </td>
              <td>{h.endpoint}</td>
              <td>
                <code>{h.instanceId.slice(0, 8)}</code>
              </td>
              <td>
                {h.host} / {h.pid}
              </td>
              <td>{h.version}</td>
              <td>{ago(h.lastSeen)}</td>
              <td>
                {h.inFlight} / {h.concurrency}
              </td>
              <td>
                {Object.entries(h.breakers)
                  .map(([name, state]) => `${name}: ${state}`)
                  .join(', ') || '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
