import { rmSync } from 'node:fs';
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const OUT_DIR = path.resolve(import.meta.dirname, 'public');

/**
 * public/ also holds files that are not ours, so Vite must not empty it; instead only the previous build's
 * hashed assets and manifest are removed, so stale chunks never pile up.
 */
function cleanPreviousBuild(): Plugin {
  return {
    name: 'tally-clean-previous-build',
    apply: 'build',
    buildStart() {
      rmSync(path.join(OUT_DIR, 'assets'), { recursive: true, force: true });
      rmSync(path.join(OUT_DIR, '.vite'), { recursive: true, force: true });
    },
  };
}

export default defineConfig({
  root: path.resolve(import.meta.dirname, 'src/web'),
  base: '/',
  publicDir: false,
  plugins: [react(), cleanPreviousBuild()],
  resolve: {
    alias: {
      '@atlaskit/feature-gate-js-client/feature-gates': path.resolve(
        import.meta.dirname,
        'src/web/host/feature-gates-off.ts',
      ),
    },
  },
  build: {
    outDir: OUT_DIR,
    emptyOutDir: false,
    assetsDir: 'assets',
    manifest: true,
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: true,
    chunkSizeWarningLimit: 600,
    rollupOptions: {
      input: path.resolve(import.meta.dirname, 'src/web/main.tsx'),
    },
  },
});
