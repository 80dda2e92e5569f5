import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTROL_TOKEN_HEADER, type Faults } from './control-api.js';
import type { Supervisor } from './supervisor.js';

/** The running control channel: where it listens and the token a caller must send. */
export interface ControlServer {
  readonly url: string;
  readonly token: string;
  close(): Promise<void>;
}

function send(response: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > 10_000) throw new Error('body too large');
  }
  return JSON.parse(text);
}

function authorized(request: IncomingMessage, token: string): boolean {
  const given = Buffer.from(String(request.headers[CONTROL_TOKEN_HEADER] ?? ''));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Starts the supervisor's control channel on a free loopback port: `GET /status`,
 * `POST /services/:name/stop|start`, `PUT /faults`. Every request must carry the random token in
 * `x-shop-control-token`; the supervisor hands it (with the URL) to the gateway only.
 */
export async function startControlServer(supervisor: Supervisor): Promise<ControlServer> {
  const token = randomBytes(24).toString('base64url');
  const server: Server = createServer((request, response) => {
    void (async () => {
      if (!authorized(request, token)) return send(response, 401, { error: 'missing or wrong control token' });
      const path = new URL(request.url ?? '/', 'http://control').pathname;
      if (request.method === 'GET' && path === '/status') return send(response, 200, supervisor.status());
      const action = /^\/services\/([a-z]+)\/(stop|start)$/.exec(path);
      if (request.method === 'POST' && action) {
        const [, name, verb] = action as unknown as [string, string, 'stop' | 'start'];
        if (!supervisor.has(name) || name === 'gateway') return send(response, 404, { error: `no stoppable service ${name}` });
        if (verb === 'stop') void supervisor.stop([name]);
        else void supervisor.start([name]);
        return send(response, 204);
      }
      if (request.method === 'PUT' && path === '/faults') {
        const body = (await readJson(request)) as Partial<Faults>;
        if (typeof body?.poison !== 'boolean') return send(response, 400, { error: 'send { "poison": true | false }' });
        return send(response, 200, supervisor.setFaults({ poison: body.poison }));
      }
      return send(response, 404, { error: `no ${request.method} ${path}` });
    })().catch((error: Error) => send(response, 400, { error: error.message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
