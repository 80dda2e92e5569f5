import { TurnBatcher } from '@mailroom/core/internal';
import type { BrokerStatements } from './broker-statements.js';
import type { PgNamedQuery, PgQueryResult } from './pg-client.js';

interface Settlement {
  readonly kind: 'a' | 'r';
  readonly seq: string;
  readonly token: string;
  readonly delayMs: number;
}

const MAX_BATCH = 1000;

/**
 * Acknowledgements and retries of one turn of the event loop, written in one statement (so one
 * commit), batched by the core {@link TurnBatcher}: each resolves after the commit with whether its
 * row was still leased with its token (false: the lease had expired and another consumer may have
 * the message); a failed statement rejects the settlements it carried.
 */
export class SettleBatcher {
  private readonly batcher: TurnBatcher<Settlement, boolean>;

  constructor(
    private readonly statements: BrokerStatements,
    private readonly run: (query: PgNamedQuery) => Promise<PgQueryResult<{ seq: string; kind: 'a' | 'r' }>>,
  ) {
    this.batcher = new TurnBatcher((batch) => this.write(batch), { maxBatch: MAX_BATCH });
  }

  /** Deletes the leased row. */
  ack(seq: string, token: string): Promise<boolean> {
    return this.batcher.submit({ kind: 'a', seq, token, delayMs: 0 });
  }

  /** Makes the leased row visible again after `delayMs`, with its first failure time set. */
  retry(seq: string, token: string, delayMs: number): Promise<boolean> {
    return this.batcher.submit({ kind: 'r', seq, token, delayMs });
  }

  private async write(batch: Settlement[]): Promise<boolean[]> {
    const acks = batch.filter((s) => s.kind === 'a');
    const retries = batch.filter((s) => s.kind === 'r');
    const { rows } = await this.run(
      this.statements.settle(
        acks.map((s) => s.seq),
        acks.map((s) => s.token),
        retries.map((s) => s.seq),
        retries.map((s) => s.token),
        retries.map((s) => s.delayMs),
      ),
    );
    const changed = new Set(rows.map((row) => `${row.kind}${row.seq}`));
    return batch.map((settlement) => changed.has(`${settlement.kind}${settlement.seq}`));
  }
}
