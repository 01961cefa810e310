import type { Knex } from 'knex';
import { SUPPORT_ROLE } from './support-access';
import type { TenantState } from './tenant-store';

/**
 * What support staff may see, read as the support role so that PostgreSQL enforces consent: the registry through
 * support_tenants() (no tenant data), and a tenant's data only while it has consented. Every read of tenant data and
 * every refusal is written to the tenant's audit log in the same transaction (a failed audit write shows nothing).
 */

export interface SupportTenant {
  tenantId: string;
  clientKey: string;
  workspaceSlug: string | null;
  workspaceName: string | null;
  state: TenantState;
  deleteAfter: Date | null;
  consentExpiresAt: Date | null;
}

export interface SupportRepository {
  fullName: string;
  syncState: string;
  commitsKnown: number;
  commitsWithLines: number;
  etaSeconds: number | null;
  lastError: string | null;
  deleted: boolean;
}

export interface SupportStatistics {
  repositories: number;
  commits: number;
  commitsWithLines: number;
  linesAdded: number;
  linesRemoved: number;
  contributors: number;
  pullRequests: number;
  webhookDeliveriesPending: number;
  lastCommitAt: Date | null;
}

export type SupportView =
  | { refused: true; tenant: SupportTenant }
  | {
      refused: false;
      tenant: SupportTenant;
      repositories: SupportRepository[];
      statistics: SupportStatistics;
    };

/** Runs fn as the support role (transaction-local, so the pooled connection goes back unchanged). */
export function asSupport<T>(knex: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return knex.transaction(async (trx) => {
    await trx.raw(`set local role ${SUPPORT_ROLE}`);
    return fn(trx);
  });
}

interface RegistryRow {
  tenant_id: string;
  client_key: string;
  workspace_slug: string | null;
  workspace_name: string | null;
  state: TenantState;
  delete_after: Date | null;
  consent_expires_at: Date | null;
}

const toTenant = (r: RegistryRow): SupportTenant => ({
  tenantId: r.tenant_id,
  clientKey: r.client_key,
  workspaceSlug: r.workspace_slug,
  workspaceName: r.workspace_name,
  state: r.state,
  deleteAfter: r.delete_after,
  consentExpiresAt: r.consent_expires_at,
});

export async function listSupportTenants(knex: Knex): Promise<SupportTenant[]> {
  return asSupport(knex, async (trx) => {
    const { rows } = await trx.raw<{ rows: RegistryRow[] }>('select * from support_tenants()');
    return rows.map(toTenant);
  });
}

/** A tenant's repositories, indexing state and statistics, or a refusal; null when the clientKey is unknown. */
export async function showTenant(knex: Knex, clientKey: string, who: string): Promise<SupportView | null> {
  return asSupport(knex, async (trx) => {
    const { rows } = await trx.raw<{ rows: RegistryRow[] }>(
      'select * from support_tenants() where client_key = ?',
      [clientKey],
    );
    if (!rows[0]) return null;
    const tenant = toTenant(rows[0]);
    const log = (action: string, details: Record<string, unknown>) =>
      trx.raw('select support_log(?, ?, ?, ?::jsonb)', [
        tenant.tenantId,
        who,
        action,
        JSON.stringify(details),
      ]);
    const { rows: consent } = await trx.raw<{ rows: { ok: boolean }[] }>(
      'select support_has_consent(?) as ok',
      [tenant.tenantId],
    );
    if (!consent[0]?.ok) {
      await log('support.refused', { command: 'show' });
      return { refused: true, tenant };
    }
    const repositories = await trx('repositories')
      .where({ tenant_id: tenant.tenantId })
      .orderBy('full_name')
      .select(
        'full_name',
        'sync_state',
        'commits_known',
        'commits_with_lines',
        'eta_seconds',
        'last_error',
        'deleted_at',
      );
    const statistics = await readStatistics(trx, tenant.tenantId);
    await log('support.read', {
      command: 'show',
      read: ['repositories', 'commits', 'contributors', 'pull_requests', 'webhook_deliveries'],
    });
    return {
      refused: false,
      tenant,
      repositories: repositories.map((r) => ({
        fullName: r.full_name,
        syncState: r.sync_state,
        commitsKnown: r.commits_known,
        commitsWithLines: r.commits_with_lines,
        etaSeconds: r.eta_seconds,
        lastError: r.last_error,
        deleted: r.deleted_at !== null,
      })),
      statistics,
    };
  });
}

async function readStatistics(trx: Knex.Transaction, tenantId: string): Promise<SupportStatistics> {
  const { rows } = await trx.raw<{ rows: Record<string, unknown>[] }>(
    `select
       (select count(*) from repositories where tenant_id = :t)::int as repositories,
       (select count(*) from commits where tenant_id = :t)::int as commits,
       (select count(*) from commits where tenant_id = :t and lines_added is not null)::int as commits_with_lines,
       (select coalesce(sum(lines_added), 0) from commits where tenant_id = :t)::bigint as lines_added,
       (select coalesce(sum(lines_removed), 0) from commits where tenant_id = :t)::bigint as lines_removed,
       (select max(authored_at) from commits where tenant_id = :t) as last_commit_at,
       (select count(*) from contributors where tenant_id = :t)::int as contributors,
       (select count(*) from pull_requests where tenant_id = :t)::int as pull_requests,
       (select count(*) from webhook_deliveries where tenant_id = :t and processed_at is null)::int as pending`,
    { t: tenantId },
  );
  const r = rows[0]!;
  return {
    repositories: r.repositories as number,
    commits: r.commits as number,
    commitsWithLines: r.commits_with_lines as number,
    linesAdded: Number(r.lines_added),
    linesRemoved: Number(r.lines_removed),
    contributors: r.contributors as number,
    pullRequests: r.pull_requests as number,
    webhookDeliveriesPending: r.pending as number,
    lastCommitAt: (r.last_commit_at as Date | null) ?? null,
  };
}
