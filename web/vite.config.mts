import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The SDK is consumed from source (client/src) until it ships as a built package.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  resolve: { alias: { '@pigeon/client': fileURLToPath(new URL('../client/src/index.ts', import.meta.url)) } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline modulepreload polyfill script: the CSP allows no inline scripts.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: { proxy: { '/api': 'http://localhost:3000', '/rt': { target: 'ws://localhost:3000', ws: true }, '/socket.io': { target: 'ws://localhost:3000', ws: true } } },
});
