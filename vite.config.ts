import { rmSync } from 'node:fs';
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin, type UserConfig } from 'vite';

const OUT_DIR = path.resolve(import.meta.dirname, 'public');
/** The Forge Custom UI resource (`vite build --mode forge`): forge/manifest.yml's `resources: ui` path. */
const FORGE_OUT_DIR = path.resolve(import.meta.dirname, 'forge/static/ui');

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

/** Atlassian's feature-gate client, which ADS consults, is a stub that says every gate is off (docs/ui.md). */
const resolve = {
  alias: {
    '@atlaskit/feature-gate-js-client/feature-gates': path.resolve(
      import.meta.dirname,
      'src/web/host/feature-gates-off.ts',
    ),
  },
};

const connectConfig: UserConfig = {
  root: path.resolve(import.meta.dirname, 'src/web'),
  base: '/',
  publicDir: false,
  plugins: [react(), cleanPreviousBuild()],
  resolve,
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
};

/**
 * Two outputs from one source: the Connect pages (default mode, served by Tally under /assets) and, with
 * `--mode forge`, the Forge Custom UI resource, a self-contained folder with relative asset URLs that Forge
 * uploads on `forge deploy` (docs/forge.md).
 */
export default defineConfig(({ mode }) =>
  mode === 'forge'
    ? {
        root: path.resolve(import.meta.dirname, 'src/web/forge'),
        base: './',
        publicDir: false,
        plugins: [react()],
        resolve,
        build: {
          outDir: FORGE_OUT_DIR,
          emptyOutDir: true,
          assetsDir: 'assets',
          sourcemap: false,
          target: 'es2022',
          reportCompressedSize: true,
          chunkSizeWarningLimit: 600,
        },
      }
    : connectConfig,
);
