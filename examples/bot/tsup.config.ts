import { defineConfig } from 'tsup';

// `npm run example:bot` runs the bot against the SDK's source: esbuild resolves `@pigeon/client`
// through tsconfig.json's paths, exactly as an app resolves the installed package.
export default defineConfig({
  entry: { bot: 'examples/bot/bot.ts' },
  outDir: 'examples/bot/dist',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  tsconfig: 'examples/bot/tsconfig.json',
  noExternal: ['@pigeon/client'],
  clean: true,
});
