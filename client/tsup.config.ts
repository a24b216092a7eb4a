import { defineConfig } from 'tsup';

// One ESM and one CJS build with bundled .d.ts; the wire types from ../src/protocol are inlined,
// socket.io-client stays an external dependency.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { composite: false } },
  tsconfig: 'tsconfig.json',
  platform: 'neutral',
  target: 'es2022',
  sourcemap: false,
  clean: true,
  treeshake: true,
  external: ['socket.io-client'],
});
