import { z } from 'zod';

/**
 * Tally's whole configuration, parsed once from the environment at start-up.
 * Every problem is reported together; production has no silent defaults.
 */
export type Config = z.infer<typeof configSchema>;

const csv = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1');

const FORGE_APP_ARI =
  /^ari:cloud:ecosystem::app\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const baseSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  BASE_URL: z.url().optional(),
  DATABASE_URL: z.url().optional(),
  DATABASE_ADMIN_URL: z.url().optional(),
  TALLY_ENCRYPTION_KEY: z.string().optional(),
  BITBUCKET_ALLOWED_HOSTS: csv,
  FRAME_ANCESTORS: csv,
  BITBUCKET_REQUESTS_PER_HOUR: z.coerce.number().int().positive().default(950),
  STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  JOB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(86_400_000).default(600_000),
  INSTALL_RATE_LIMIT: z.coerce.number().int().positive().default(30),
  SENTRY_DSN: z
    .url()
    .optional()
    .or(z.literal('').transform(() => undefined)),
  DD_TRACE_ENABLED: bool,
  DD_AGENT_HOST: z.string().optional(),
  LOG_LEVEL: logLevel.optional(),
  TALLY_DATA_DIR: z.string().default('.data'),
  PERSONAL_DATA_REPORTING_URL: z.url().default('https://api.atlassian.com'),
  BACKUP_ENCRYPTION_KEY: z.string().optional(),
  SUPPORT_DATABASE_URL: z.url().optional(),
  PG_DUMP_PATH: z.string().min(1).optional(),
  PG_RESTORE_PATH: z.string().min(1).optional(),
  LEDGER_SOURCE_URL: z.url().optional(),
  WEBHOOK_QUEUE_LIMIT: z.coerce.number().int().min(4).max(100_000).default(1000),
  // The Forge front door (docs/forge.md): open only when the app id is set.
  FORGE_APP_ID: z
    .string()
    .regex(
      FORGE_APP_ARI,
      'expected the app id as Forge puts it in the token: ari:cloud:ecosystem::app/<uuid>',
    )
    .optional()
    .or(z.literal('').transform(() => undefined)),
  FORGE_JWKS_URL: z.url().default('https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json'),
});

const configSchema = baseSchema.transform((env) => ({
  env: env.NODE_ENV,
  port: env.PORT ?? 3000,
  baseUrl: (env.BASE_URL ?? `http://localhost:${env.PORT ?? 3000}`).replace(/\/+$/, ''),
  databaseUrl: env.DATABASE_URL,
  databaseAdminUrl: env.DATABASE_ADMIN_URL,
  /** The key ring: the first key seals, every key opens (src/platform/secret-box.ts). */
  encryptionKeys:
    splitKeys(env.TALLY_ENCRYPTION_KEY ?? '').length === 0
      ? undefined
      : splitKeys(env.TALLY_ENCRYPTION_KEY!).map((k) => parseKey(k) as Buffer),
  bitbucketAllowedHosts: ['bitbucket.org', 'api.bitbucket.org', ...env.BITBUCKET_ALLOWED_HOSTS],
  frameAncestors: env.FRAME_ANCESTORS,
  requestsPerHour: env.BITBUCKET_REQUESTS_PER_HOUR,
  /** Every statement of the web role (and any connection of the pool) is cancelled after this long. */
  statementTimeoutMs: env.STATEMENT_TIMEOUT_MS,
  /** Jobs' transactions allow their statements this long instead (SET LOCAL). */
  jobStatementTimeoutMs: env.JOB_STATEMENT_TIMEOUT_MS,
  installsPerMinute: env.INSTALL_RATE_LIMIT,
  sentryDsn: env.SENTRY_DSN,
  datadog: { enabled: env.DD_TRACE_ENABLED, agentHost: env.DD_AGENT_HOST },
  logLevel: env.LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
  dataDir: env.TALLY_DATA_DIR,
  personalDataReportingUrl: env.PERSONAL_DATA_REPORTING_URL.replace(/\/+$/, ''),
  backupEncryptionKey:
    env.BACKUP_ENCRYPTION_KEY === undefined ? undefined : (parseKey(env.BACKUP_ENCRYPTION_KEY) as Buffer),
  supportDatabaseUrl: env.SUPPORT_DATABASE_URL,
  pgTools: { pgDump: env.PG_DUMP_PATH, pgRestore: env.PG_RESTORE_PATH },
  ledgerSourceUrl: env.LEDGER_SOURCE_URL,
  webhookQueueLimit: env.WEBHOOK_QUEUE_LIMIT,
  /** Forge Remote: the audience invocation tokens must carry (undefined: the Forge door is closed) and their keys. */
  forge: { appId: env.FORGE_APP_ID, jwksUrl: env.FORGE_JWKS_URL },
}));

/** A 32-byte key from 64 hex characters or base64; null when it is anything else. */
export function parseKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(trimmed)) {
    const buf = Buffer.from(trimmed, 'base64');
    if (buf.length === 32) return buf;
  }
  return null;
}

/** TALLY_ENCRYPTION_KEY's comma-separated keys, newest (sealing) first. */
export function splitKeys(text: string): string[] {
  return text
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/** Rules on the raw values, checked even when some values fail to parse, so every problem is told at once. */
function policyProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const value = (key: string) => (env[key] ?? '').trim();
  const ring = splitKeys(value('TALLY_ENCRYPTION_KEY'));
  ring.forEach((key, i) => {
    if (parseKey(key) === null)
      problems.push(
        `TALLY_ENCRYPTION_KEY: key ${i + 1} of ${ring.length} must be 32 bytes: 64 hex characters or 44 base64 characters`,
      );
  });
  const parsed = ring.flatMap((key) => parseKey(key)?.toString('hex') ?? []);
  if (new Set(parsed).size < parsed.length) problems.push('TALLY_ENCRYPTION_KEY: a key is listed twice');
  if (value('BACKUP_ENCRYPTION_KEY') && parseKey(value('BACKUP_ENCRYPTION_KEY')) === null) {
    problems.push('BACKUP_ENCRYPTION_KEY: must be 32 bytes: 64 hex characters or 44 base64 characters');
  }
  if (env.NODE_ENV !== 'production') return problems;
  const required: Record<string, string> = {
    PORT: 'required in production',
    BASE_URL: 'required in production (the public https URL of Tally)',
    DATABASE_URL: 'required in production (the restricted application role)',
    TALLY_ENCRYPTION_KEY:
      'required in production (32 bytes, hex or base64; a comma-separated list while rotating)',
  };
  for (const [key, why] of Object.entries(required)) if (!value(key)) problems.push(`${key}: ${why}`);
  if (value('BASE_URL') && !value('BASE_URL').startsWith('https://'))
    problems.push('BASE_URL: must be https in production');
  if (value('BITBUCKET_ALLOWED_HOSTS')) problems.push('BITBUCKET_ALLOWED_HOSTS: must be empty in production');
  if (value('FRAME_ANCESTORS')) problems.push('FRAME_ANCESTORS: must be empty in production');
  return problems;
}

export function parseConfig(env: NodeJS.ProcessEnv): ConfigResult {
  const result = configSchema.safeParse(env);
  const problems = [
    ...(result.success
      ? []
      : result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`)),
    ...policyProblems(env),
  ];
  if (result.success && problems.length === 0) return { ok: true, config: result.data };
  return { ok: false, problems };
}

/** Parses the environment or prints every problem and exits 1. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = parseConfig(env);
  if (result.ok) return result.config;
  process.stderr.write(`Tally cannot start: the configuration has ${result.problems.length} problem(s):\n`);
  for (const problem of result.problems) process.stderr.write(`  - ${problem}\n`);
  process.exit(1);
}
