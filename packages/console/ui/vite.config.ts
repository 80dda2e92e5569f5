// Builds the console's web UI (Preact) into packages/console/dist/ui, which the console server serves.
// The root `npm run build` runs it (npm run build:ui -w packages/console); during UI work,
// `npx vite --config ui/vite.config.ts` serves it with hot reload and proxies /api to a console on port 4000.
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defaultClientConditions, defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [preact()],
  resolve: { conditions: ['source', ...defaultClientConditions] },
  build: { outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)), emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
  server: { proxy: { '/api': 'http://localhost:4000', '/login': 'http://localhost:4000', '/session': 'http://localhost:4000' } },
  logLevel: 'warn',
});
