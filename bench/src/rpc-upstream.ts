import { Code, ConnectError } from '@connectrpc/connect';
import { createRpcServer } from '@mailroom/rpc';
import { ItemService } from './gen/mailroom/bench/v1/item_pb.js';
import { serveUpstream } from './upstream.js';

/**
 * The upstream of the RPC scenario, run as a child process (`node bench/dist/rpc-upstream.js`):
 * `ItemService` on a Mailroom RPC server (createRpcServer: gRPC, gRPC-Web and Connect, HTTP/1.1
 * and HTTP/2 on one port) on 127.0.0.1. `GetItem` answers a small item; the id `fail` answers
 * UNAVAILABLE. Sends `{ port }` to its parent once listening; exits when the parent disconnects.
 */
async function main(): Promise<void> {
  const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
  const item = { name: 'A benchmark item', price: 12.5, tags: ['a', 'b', 'c'] };
  const app = await createRpcServer({
    logger: silent,
    routes: (router) =>
      router.service(ItemService, {
        async getItem(request) {
          if (request.id === 'fail') throw new ConnectError('unavailable', Code.Unavailable);
          return { id: request.id, ...item };
        },
      }),
  });
  await serveUpstream(app);
}

void main();
