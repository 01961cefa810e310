import ignore, { type Ignore } from 'ignore';
import type { Trx } from '../db/database';

/**
 * What the analytics settings decide: which files count for lines (gitignore-style path exclusions per workspace
 * and per repository, over defaults) and which commits are bots' (case-insensitive substrings of author email or
 * name, over defaults). Changing them rebuilds rollups from stored data (rollups.ts), never calling Bitbucket.
 */

export const DEFAULT_PATH_EXCLUSIONS: readonly string[] = [
  // Lockfiles
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lockb',
  'Gemfile.lock',
  'composer.lock',
  'Cargo.lock',
  'poetry.lock',
  'Pipfile.lock',
  'uv.lock',
  'go.sum',
  'mix.lock',
  'pubspec.lock',
  'Podfile.lock',
  'packages.lock.json',
  'flake.lock',
  // Vendored code
  'vendor/',
  'node_modules/',
  'third_party/',
  'bower_components/',
  // Minified files and source maps
  '*.min.js',
  '*.min.css',
  '*.map',
];

export const DEFAULT_BOT_PATTERNS: readonly string[] = ['[bot]', 'dependabot', 'renovate'];

export interface AnalyticsSettings {
  timezone: string;
  pathExclusions: string[];
  useDefaultExclusions: boolean;
  botPatterns: string[];
  useDefaultBots: boolean;
  /** The workspace's Jira site (`https://<host>`), where issue keys in commit messages link to; null: none. */
  jiraSiteUrl: string | null;
  /** Phase 2 counts lines from patch series (an admin's opt-in; counts are identical, only requests differ). */
  lineCountsFromPatches: boolean;
}

const DEFAULT_SETTINGS: AnalyticsSettings = {
  timezone: 'UTC',
  pathExclusions: [],
  useDefaultExclusions: true,
  botPatterns: [],
  useDefaultBots: true,
  jiraSiteUrl: null,
  lineCountsFromPatches: false,
};

interface SettingsRow {
  timezone: string;
  path_exclusions: string[];
  use_default_exclusions: boolean;
  bot_patterns: string[];
  use_default_bots: boolean;
  jira_site_url: string | null;
  line_counts_from_patches: boolean;
}

export async function loadSettings(trx: Trx): Promise<AnalyticsSettings> {
  const row = await trx<SettingsRow>('tenant_settings').first();
  if (!row) return { ...DEFAULT_SETTINGS };
  return {
    timezone: row.timezone,
    pathExclusions: row.path_exclusions,
    useDefaultExclusions: row.use_default_exclusions,
    botPatterns: row.bot_patterns,
    useDefaultBots: row.use_default_bots,
    jiraSiteUrl: row.jira_site_url,
    lineCountsFromPatches: row.line_counts_from_patches,
  };
}

export async function saveSettings(trx: Trx, settings: AnalyticsSettings): Promise<void> {
  await trx('tenant_settings')
    .insert({
      tenant_id: trx.raw(`current_setting('app.tenant_id')::uuid`),
      timezone: settings.timezone,
      path_exclusions: JSON.stringify(settings.pathExclusions),
      use_default_exclusions: settings.useDefaultExclusions,
      bot_patterns: JSON.stringify(settings.botPatterns),
      use_default_bots: settings.useDefaultBots,
      jira_site_url: settings.jiraSiteUrl,
      line_counts_from_patches: settings.lineCountsFromPatches,
      updated_at: trx.fn.now(),
    })
    .onConflict('tenant_id')
    .merge();
}

/** Per-repository exclusions, keyed by repository id (repositories without any are absent). */
export async function loadRepositoryExclusions(
  trx: Trx,
  repositoryId?: number,
): Promise<Map<number, string[]>> {
  const query = trx<{ repository_id: number; path_exclusions: string[] }>('repository_settings').select(
    'repository_id',
    'path_exclusions',
  );
  if (repositoryId !== undefined) query.where({ repository_id: repositoryId });
  const rows = await query;
  return new Map(rows.map((r) => [r.repository_id, r.path_exclusions]));
}

export async function saveRepositoryExclusions(
  trx: Trx,
  repositoryId: number,
  patterns: string[],
): Promise<void> {
  await trx('repository_settings')
    .insert({
      tenant_id: trx.raw(`current_setting('app.tenant_id')::uuid`),
      repository_id: repositoryId,
      path_exclusions: JSON.stringify(patterns),
      updated_at: trx.fn.now(),
    })
    .onConflict(['tenant_id', 'repository_id'])
    .merge();
}

/** Lower-cased substrings; a commit is a bot's when its author email or name contains one. */
export function effectiveBotPatterns(settings: AnalyticsSettings): string[] {
  const all = [...(settings.useDefaultBots ? DEFAULT_BOT_PATTERNS : []), ...settings.botPatterns];
  return [...new Set(all.map((p) => p.toLowerCase()))];
}

export function effectivePathExclusions(
  settings: AnalyticsSettings,
  repositoryPatterns: string[] = [],
): string[] {
  // Repository lines come last so that they can re-include (`!path`) what the workspace excludes.
  return [
    ...(settings.useDefaultExclusions ? DEFAULT_PATH_EXCLUSIONS : []),
    ...settings.pathExclusions,
    ...repositoryPatterns,
  ];
}

/**
 * Gitignore semantics come from the `ignore` package (what ESLint and Prettier use), not a home-made glob:
 * anchoring, `dir/`, `**`, negation and escaping all behave as git's documentation says.
 */
export type PathMatcher = (path: string) => boolean;

export function pathMatcher(patterns: readonly string[]): PathMatcher | null {
  if (patterns.length === 0) return null;
  const rules: Ignore = ignore().add(patterns);
  return (path) => {
    try {
      return rules.ignores(path.replace(/^\/+/, ''));
    } catch {
      // `ignore` refuses paths it cannot treat as relative (e.g. `../x`): such a path is simply not excluded.
      return false;
    }
  };
}

/** A pattern list as the settings API accepts it; problems come back as readable reasons. */
export function patternProblems(patterns: string[]): string[] {
  const problems: string[] = [];
  for (const p of patterns) {
    if (/[\r\n\0]/.test(p)) problems.push(`pattern ${JSON.stringify(p)} has a line break or NUL`);
    else if (p.trim() === '' || p.trim().startsWith('#'))
      problems.push(`pattern ${JSON.stringify(p)} matches nothing`);
  }
  return problems;
}
