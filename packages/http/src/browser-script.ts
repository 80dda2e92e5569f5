import { fileURLToPath } from 'node:url';

/**
 * The absolute path of the built browser client (`dist/browser/watch-operation.js`), a standalone
 * ES module a gateway can serve as it is (e.g. with `@fastify/static` or `reply.sendFile`).
 * Exists once the package is built (`npm run build`).
 */
export const watchOperationScriptPath: string = fileURLToPath(new URL('../dist/browser/watch-operation.js', import.meta.url));
