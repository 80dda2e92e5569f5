import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { markRoutesOpen } from '@mailroom/http/operator-auth';
import type { FastifyInstance } from 'fastify';

/** Where the built web UI is: `SHOP_UI_DIR`, else `examples/shop/dist/ui` (what `npm run build:ui` writes). */
export function uiDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.SHOP_UI_DIR?.trim() || fileURLToPath(new URL('../../dist/ui', import.meta.url)));
}

/** Serves the built web UI at `/`, open to everyone (the operator's parts of the page ask to log in); without a build, `/` says how to make one. */
export async function uiFiles(app: FastifyInstance, directory: string): Promise<void> {
  await app.register(async (ui) => {
    markRoutesOpen(ui);
    await publicFiles(ui, directory);
  });
}

async function publicFiles(app: FastifyInstance, directory: string): Promise<void> {
  if (!existsSync(join(directory, 'index.html'))) {
    app.get('/', async (_request, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send(
          `The web UI is not built (no ${join(directory, 'index.html')}).\nBuild it with: npm run build:ui -w examples/shop (npm start does it for you).\n`,
        ),
    );
    return;
  }
  await app.register(fastifyStatic, { root: directory, prefix: '/', index: 'index.html', cacheControl: false });
}
