// Builds the shop's web UI (Preact) into examples/shop/dist/ui, which the gateway serves.
// `npm run build:ui -w examples/shop` builds it; during UI work, `npx vite --config ui/vite.config.ts`
// serves it with hot reload and proxies /api to a running shop on port 3000.
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defaultClientConditions, defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [preact()],
  // `source`: bundle @mailroom/http/browser from its TypeScript, so the UI builds before the packages do.
  resolve: { conditions: ['source', ...defaultClientConditions] },
  build: { outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)), emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
  server: { proxy: { '/api': 'http://localhost:3000' } },
  logLevel: 'warn',
});
