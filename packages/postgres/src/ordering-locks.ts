import type { OutboxMessage } from '@mailroom/core';
import type { PgQueryable } from './pg-client.js';

/**
 * Takes, inside `tx`, one transaction-scoped advisory lock per distinct ordering key of `messages`
 * (in a fixed order, so two transactions never deadlock on them), in the lock space `space`: a
 * transaction writing under a key waits for every earlier open transaction that wrote under it, so
 * the rows of one key commit in the order they were written.
 */
export async function lockOrderingKeys(tx: PgQueryable, space: string, messages: readonly OutboxMessage[]): Promise<void> {
  const keys = [...new Set(messages.flatMap((m) => (m.orderingKey === undefined ? [] : [m.orderingKey])))].sort();
  if (keys.length === 0) return;
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1), h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY h) AS locks`, [
    space,
    keys,
  ]);
}
