// The notifications service: "sends" the customer an e-mail when an order completes, fails or is cancelled, by
// writing it to its own outgoing mail table (a real service would hand it to an SMTP relay from there).
import { randomUUID } from 'node:crypto';
import type { HandlerContext } from '@mailroom/core';
import { CustomerNotified, OrderCancelled, OrderCompleted, OrderPlaced, OrderRejected } from '../contracts.js';
import { formatCents } from '../money.js';
import { runService } from '../runtime/run-service.js';
import type { Sql } from '../runtime/service-database.js';

interface RecipientRow {
  name: string;
  email: string;
}

async function recipientOf(sql: Sql, orderId: string): Promise<RecipientRow> {
  const [recipient] = await sql.all<RecipientRow>('SELECT name, email FROM recipients WHERE order_id = ?', [orderId]);
  if (!recipient) throw new Error(`no recipient for order ${orderId} yet (its OrderPlaced has not been handled); retrying`);
  return recipient;
}

await runService('notifications', async ({ db, endpoint }) => {
  await db.migrate([
    'CREATE TABLE IF NOT EXISTS recipients (order_id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL)',
    `CREATE TABLE IF NOT EXISTS emails (
       email_id TEXT PRIMARY KEY,
       order_id TEXT NOT NULL,
       kind TEXT NOT NULL,
       to_address TEXT NOT NULL,
       subject TEXT NOT NULL,
       body TEXT NOT NULL,
       written_at TEXT NOT NULL,
       UNIQUE (order_id, kind)
     )`,
  ]);

  endpoint.on(OrderPlaced, async ({ orderId, customer }, ctx) => {
    await db
      .sql(ctx.tx)
      .run('INSERT INTO recipients (order_id, name, email) VALUES (?, ?, ?) ON CONFLICT (order_id) DO NOTHING', [orderId, customer.name, customer.email]);
  });

  const write = async (tx: unknown, orderId: string, kind: string, subject: string, body: (name: string) => string) => {
    const sql = db.sql(tx);
    const recipient = await recipientOf(sql, orderId);
    const emailId = randomUUID();
    const written = await sql.run(
      'INSERT INTO emails (email_id, order_id, kind, to_address, subject, body, written_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id, kind) DO NOTHING',
      [emailId, orderId, kind, recipient.email, subject, body(recipient.name), new Date().toISOString()],
    );
    return written === 1 ? { emailId, to: recipient.email } : undefined;
  };

  endpoint.on(OrderCompleted, async ({ orderId, totalCents, estimatedDelivery }, ctx) => {
    const subject = `Your order is on its way (arriving ${estimatedDelivery})`;
    const sent = await write(
      ctx.tx,
      orderId,
      'completed',
      subject,
      (name) => `Hello ${name}, we charged ${formatCents(totalCents)} and shipped order ${orderId}.`,
    );
    if (!sent) return;
    await ctx.publish(CustomerNotified, { orderId, emailId: sent.emailId, to: sent.to, subject });
    ctx.log.debug({}, `e-mail to ${sent.to}: "${subject}"`);
  });

  const failed =
    (kind: 'rejected' | 'cancelled') =>
    async ({ orderId, detail }: { orderId: string; detail: string }, ctx: HandlerContext<unknown>) => {
      const subject = kind === 'rejected' ? 'We could not complete your order' : 'Your order was cancelled';
      const sent = await write(
        ctx.tx,
        orderId,
        kind,
        subject,
        (name) => `Hello ${name}, order ${orderId} ${kind === 'rejected' ? 'failed' : 'was cancelled'}: ${detail}`,
      );
      if (!sent) return;
      await ctx.publish(CustomerNotified, { orderId, emailId: sent.emailId, to: sent.to, subject });
      ctx.log.debug({}, `e-mail to ${sent.to}: "${subject}"`);
    };
  endpoint.on(OrderRejected, failed('rejected'));
  endpoint.on(OrderCancelled, failed('cancelled'));
  return undefined;
});
