// The per-client cap on operation event streams: one more stream than allowed answers problem 429,
// and a closed stream frees its slot.
import Fastify from 'fastify';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { classifierFor, HttpErrorCodes, mailroomFastify, operationRoutes } from '../src/index.js';
import { dialects, PlaceOrderOperation } from './support/operations-rig.js';
import { openSse, type SseConnection } from './support/sse-client.js';

const sqlite = dialects.find((dialect) => dialect.name === 'sqlite');
if (!sqlite) throw new Error('the sqlite dialect is missing from the operations rig');
const db = await sqlite.open();
afterAll(() => db.dispose());

describe('operation event streams per client', () => {
  it('answers 429 with Retry-After past maxStreamsPerClient, and frees a slot when a stream closes', async () => {
    const store = await db.store();
    await store.migrate();
    const id = '01a20c70-f07d-7588-8a98-27e62d1141bf';
    await store.create(
      { id, name: PlaceOrderOperation.name, steps: [], startedAt: new Date(), deadline: undefined, started: { type: 'shop.place-order', messageId: 'm1' } },
      classifierFor([PlaceOrderOperation]),
    );
    const app = Fastify();
    await app.register(mailroomFastify, { operationsPath: '/ops' });
    await app.register(operationRoutes, { prefix: '/ops', store, maxStreamsPerClient: 2, retryMs: 3000 });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const streams: SseConnection[] = [];
    try {
      for (let i = 0; i < 2; i++) streams.push(await openSse(`${base}/ops/${id}/events`));
      expect(streams.map((stream) => stream.status)).toEqual([200, 200]);
      const refused = await request(`${base}/ops/${id}/events`, { headers: { accept: 'text/event-stream' } });
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBe('3');
      const problem = (await refused.body.json()) as { code: string; detail: string };
      expect(problem.code).toBe(HttpErrorCodes.OPERATION_TOO_MANY_STREAMS);
      expect(problem.detail).toContain(`poll GET /ops/${id}`);
      // The JSON view is not a stream: never capped.
      expect((await request(`${base}/ops/${id}`)).statusCode).toBe(200);

      streams.shift()?.close();
      const deadline = Date.now() + 10_000;
      let again: SseConnection | undefined;
      while (Date.now() < deadline) {
        again = await openSse(`${base}/ops/${id}/events`);
        if (again.status === 200) break;
        again.close();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(again?.status).toBe(200);
      if (again) streams.push(again);
    } finally {
      for (const stream of streams) stream.close();
      await app.close();
    }
  });
});
