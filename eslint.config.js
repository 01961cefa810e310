// Lint rules, including the one-way layer rule from docs/architecture.md:
// main → api/ingest → analytics/connect/bitbucket → db → platform/config.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (dir, forbidden) => ({
  files: [`src/${dir}/**/*.ts`, `src/${dir}/**/*.tsx`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((f) => ({
          group: [`**/${f}/*`, `**/${f}`],
          message: `src/${dir} must not import src/${f} (layers import one way; see docs/architecture.md).`,
        })),
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'public/**', 'forge/static/**', '.data/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // Control characters are matched on purpose: PostgreSQL text cannot hold NUL, and inputs are cleaned of them.
      'no-control-regex': 'off',
    },
  },
  layer('platform', [
    'config',
    'db',
    'connect',
    'bitbucket',
    'ingest',
    'analytics',
    'api',
    'main',
    'simulator',
    'web',
  ]),
  layer('config', [
    'platform',
    'db',
    'connect',
    'bitbucket',
    'ingest',
    'analytics',
    'api',
    'main',
    'simulator',
    'web',
  ]),
  layer('db', ['connect', 'bitbucket', 'ingest', 'analytics', 'api', 'main', 'simulator', 'web']),
  layer('bitbucket', ['db', 'connect', 'ingest', 'analytics', 'api', 'main', 'simulator', 'web']),
  layer('connect', ['bitbucket', 'ingest', 'analytics', 'api', 'main', 'simulator', 'web']),
  layer('analytics', ['connect', 'bitbucket', 'ingest', 'api', 'main', 'simulator', 'web']),
  layer('ingest', ['api', 'main', 'simulator', 'web']),
  layer('api', ['ingest', 'main', 'simulator', 'web']),
  layer('simulator', ['config', 'db', 'connect', 'bitbucket', 'ingest', 'analytics', 'api', 'main', 'web']),
  layer('web', ['platform', 'config', 'db', 'connect', 'bitbucket', 'ingest', 'main', 'simulator']),
  {
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/demo.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/simulator/*'], message: 'Production entry points never import the simulator.' },
          ],
        },
      ],
    },
  },
);
