import type { BrokerStatements } from './broker-statements.js';
import type { PgNamedQuery, PgQueryResult } from './pg-client.js';

interface Settlement {
  readonly kind: 'a' | 'r';
  readonly seq: string;
  readonly token: string;
  readonly delayMs: number;
  readonly resolve: (changed: boolean) => void;
  readonly reject: (error: unknown) => void;
}

const MAX_BATCH = 1000;

/**
 * Acknowledgements and retries of one turn of the event loop, written in one statement (so one
 * commit): each resolves after the commit with whether its row was still leased with its token
 * (false: the lease had expired and another consumer may have the message).
 */
export class SettleBatcher {
  private queue: Settlement[] = [];
  private scheduled = false;

  constructor(
    private readonly statements: BrokerStatements,
    private readonly run: (query: PgNamedQuery) => Promise<PgQueryResult<{ seq: string; kind: 'a' | 'r' }>>,
  ) {}

  /** Deletes the leased row. */
  ack(seq: string, token: string): Promise<boolean> {
    return this.add('a', seq, token, 0);
  }

  /** Makes the leased row visible again after `delayMs`, with its first failure time set. */
  retry(seq: string, token: string, delayMs: number): Promise<boolean> {
    return this.add('r', seq, token, delayMs);
  }

  private add(kind: 'a' | 'r', seq: string, token: string, delayMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ kind, seq, token, delayMs, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) void this.write(this.queue.splice(0, MAX_BATCH));
  }

  private async write(batch: Settlement[]): Promise<void> {
    const acks = batch.filter((s) => s.kind === 'a');
    const retries = batch.filter((s) => s.kind === 'r');
    let changed: Set<string>;
    try {
      const { rows } = await this.run(
        this.statements.settle(
          acks.map((s) => s.seq),
          acks.map((s) => s.token),
          retries.map((s) => s.seq),
          retries.map((s) => s.token),
          retries.map((s) => s.delayMs),
        ),
      );
      changed = new Set(rows.map((row) => `${row.kind}${row.seq}`));
    } catch (error) {
      for (const settlement of batch) settlement.reject(error);
      return;
    }
    for (const settlement of batch) settlement.resolve(changed.has(`${settlement.kind}${settlement.seq}`));
  }
}
