import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';

/** A TCP (or TLS-terminating) proxy in front of a broker, to cut, freeze or refuse connections, or lose answers, in tests. */
export interface TcpProxy {
  readonly port: number;
  /** Destroys every open connection (both sides), like a network failure. */
  cut(): void;
  /** Stops forwarding in both directions and stops reading, without closing anything (a hung network). */
  freeze(): void;
  /** Forwards again after {@link freeze}. */
  thaw(): void;
  /** While refusing, new connections are closed at once (a broker that is down). */
  refuse(refusing: boolean): void;
  /** While dropping, what the broker sends is thrown away and what clients send still reaches it (answers lost on the way back). */
  dropAnswers(dropping: boolean): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free local port to 127.0.0.1:`targetPort` (default RabbitMQ's 5672). With `tls`, clients speak TLS to it. */
export async function startProxy(targetPort = 5672, tls?: TlsOptions): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let frozen = false;
  let refusing = false;
  let dropping = false;
  const onClient = (client: Socket) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect({ host: '127.0.0.1', port: targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (from === upstream && dropping) return;
        if (!to.destroyed) to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    if (frozen) for (const socket of pair) socket.pause();
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of pair) {
      socket.on('error', end);
      socket.on('close', end);
    }
  };
  const server: Server = tls ? createTlsServer(tls, onClient) : createServer(onClient);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('proxy did not get a port');
  const proxy: TcpProxy = {
    port: address.port,
    cut() {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    freeze() {
      frozen = true;
      for (const pair of pairs) for (const socket of pair) socket.pause();
    },
    thaw() {
      frozen = false;
      for (const pair of pairs) for (const socket of pair) socket.resume();
    },
    refuse(value) {
      refusing = value;
    },
    dropAnswers(value) {
      dropping = value;
    },
    async close() {
      proxy.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
