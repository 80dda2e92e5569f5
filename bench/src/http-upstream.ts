import Fastify from 'fastify';
import { serveUpstream } from './upstream.js';

/**
 * The upstream of the HTTP scenario, run as a child process (`node bench/dist/http-upstream.js`):
 * a Fastify server on 127.0.0.1 with `GET /item` (a small JSON document) and `GET /fail` (503).
 * Sends `{ port }` to its parent once listening; exits when the parent disconnects.
 */
async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  const item = { id: 'item-42', name: 'A benchmark item', price: 12.5, tags: ['a', 'b', 'c'] };
  app.get('/item', async () => item);
  app.get('/fail', async (_request, reply) => reply.code(503).send({ error: 'unavailable' }));
  await serveUpstream(app);
}

void main();
