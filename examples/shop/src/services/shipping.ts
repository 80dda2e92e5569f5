// The shipping service: books a carrier for every reserved order.
import { createHash, randomUUID } from 'node:crypto';
import { ShipmentScheduled, StockReserved } from '../contracts.js';
import { runService } from '../runtime/run-service.js';

const CARRIERS = ['Parcel Pigeon', 'Eventual Express', 'At-Least-Once Logistics', 'Idempotent Post'];

interface ShipmentRow {
  shipment_id: string;
  carrier: string;
  estimated_delivery: string;
}

/** A carrier and a delivery date two to four days from now, chosen from the order id (the same on every retry). */
function plan(orderId: string, now: Date): { carrier: string; estimatedDelivery: string } {
  const digest = createHash('sha256').update(orderId).digest();
  const days = 2 + ((digest[1] ?? 0) % 3);
  const date = new Date(now.getTime() + days * 86_400_000);
  return { carrier: CARRIERS[(digest[0] ?? 0) % CARRIERS.length] as string, estimatedDelivery: date.toISOString().slice(0, 10) };
}

await runService('shipping', async ({ db, endpoint }) => {
  await db.migrate([
    `CREATE TABLE IF NOT EXISTS shipments (
       shipment_id TEXT PRIMARY KEY,
       order_id TEXT NOT NULL UNIQUE,
       carrier TEXT NOT NULL,
       estimated_delivery TEXT NOT NULL,
       created_at TEXT NOT NULL
     )`,
  ]);

  endpoint.on(StockReserved, async ({ orderId, lines }, ctx) => {
    const sql = db.sql(ctx.tx);
    const now = new Date();
    const { carrier, estimatedDelivery } = plan(orderId, now);
    await sql.run(
      'INSERT INTO shipments (shipment_id, order_id, carrier, estimated_delivery, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING',
      [randomUUID(), orderId, carrier, estimatedDelivery, now.toISOString()],
    );
    const [shipment] = await sql.all<ShipmentRow>('SELECT shipment_id, carrier, estimated_delivery FROM shipments WHERE order_id = ?', [orderId]);
    if (!shipment) throw new Error(`shipment of order ${orderId} vanished; retrying`);
    await ctx.publish(
      ShipmentScheduled,
      { orderId, shipmentId: shipment.shipment_id, carrier: shipment.carrier, estimatedDelivery: shipment.estimated_delivery },
      { orderingKey: orderId },
    );
    const items = lines.reduce((sum, line) => sum + line.quantity, 0);
    ctx.log.debug({}, `order ${orderId}: ${items} item(s) with ${shipment.carrier}, arriving ${shipment.estimated_delivery}`);
  });
  return undefined;
});
