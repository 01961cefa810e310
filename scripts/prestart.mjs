/**
 * `npm start`'s prestart: builds the UI with Vite where Vite is installed (development: `npm ci && npm start`).
 * After `npm ci --omit=dev` (production, the image) Vite is absent: the UI built at image build time (public/) is
 * served as it is, so start-up never needs a dev dependency.
 */
import { existsSync } from 'node:fs';
import process from 'node:process';

let vite;
try {
  vite = await import('vite');
} catch {
  vite = null;
}
if (process.env.NODE_ENV === 'production' || vite === null) {
  if (!existsSync('public/assets'))
    process.stderr.write(
      'prestart: Vite is not installed and public/assets is missing; pages load without the UI.\n',
    );
  process.exit(0);
}
await vite.build();
