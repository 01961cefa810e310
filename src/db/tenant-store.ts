import { createHash } from 'node:crypto';
import type { Logger } from '../platform/logger';
import { UnreadableSecretError, type SecretBox } from '../platform/secret-box';
import type { Database, Trx } from './database';

export const RETENTION_DAYS = 60;
/** How long a first install may wait for Bitbucket's word (a verified request) before the purge deletes it. */
export const PENDING_TTL_MS = 3_600_000;

/**
 * An unchanged system token's invocation time is written at most this often per process: every UI call carries the
 * token, and the uninstall sweep counts in days (docs/forge.md).
 */
const INVOCATION_RECORD_MS = 5 * 60_000;
/** Forge: a tenant no valid invocation reached for this long, whose token is unusable, is swept as uninstalled. */
export const FORGE_SILENCE_DAYS = 30;

/** How long another replica's install or uninstall may take to be seen by this one. */
const SECRET_CACHE_MS = 5_000;
const SECRET_CACHE_MAX = 10_000;

export type TenantState = 'pending' | 'installed' | 'uninstalled';

/** Runs inside the transaction that stored the change: a job enqueued here commits or rolls back with it. */
export type InTransaction = (trx: Trx, tenant: Tenant) => Promise<void>;

/** The install payload fields Tally keeps (validated at the edge before it gets here). */
export interface Installation {
  clientKey: string;
  sharedSecret: string;
  baseUrl: string;
  baseApiUrl: string;
  key?: string;
  productType?: string;
  principal?: { uuid?: string; username?: string; display_name?: string; slug?: string; type?: string };
  [extra: string]: unknown;
}

export interface Tenant {
  id: string;
  /** Connect: Bitbucket's clientKey; Forge: the installation id (`ari:cloud:ecosystem::installation/<uuid>`). */
  clientKey: string;
  /** Which front door the tenant came in by (docs/forge.md); only Connect tenants have a shared secret. */
  platform: 'connect' | 'forge';
  workspaceUuid: string | null;
  workspaceSlug: string | null;
  workspaceName: string | null;
  baseUrl: string;
  baseApiUrl: string;
  /** `pending`: a first install that Bitbucket has not yet confirmed (src/ingest/install-verification.ts). */
  state: TenantState;
  installedAt: Date;
  uninstalledAt: Date | null;
  deleteAfter: Date | null;
  /** The install payload without its shared secret. */
  clientInfo: Record<string, unknown>;
}

interface TenantRow {
  id: string;
  client_key: string;
  platform: 'connect' | 'forge';
  workspace_uuid: string | null;
  workspace_slug: string | null;
  workspace_name: string | null;
  base_url: string;
  base_api_url: string;
  shared_secret_enc: string | null;
  client_info: Record<string, unknown>;
  state: TenantState;
  installed_at: Date;
  uninstalled_at: Date | null;
  delete_after: Date | null;
  updated_at?: Date;
}

const toTenant = (row: TenantRow): Tenant => ({
  id: row.id,
  clientKey: row.client_key,
  platform: row.platform,
  workspaceUuid: row.workspace_uuid,
  workspaceSlug: row.workspace_slug,
  workspaceName: row.workspace_name,
  baseUrl: row.base_url,
  baseApiUrl: row.base_api_url,
  state: row.state,
  installedAt: row.installed_at,
  uninstalledAt: row.uninstalled_at,
  deleteAfter: row.delete_after,
  clientInfo: row.client_info,
});

/** The tenant registry: one row per Connect installation (clientKey). System access only. */
export class TenantStore {
  private readonly secrets = new Map<string, { value: { tenant: Tenant; secret: string }; at: number }>();
  private readonly loadingSecrets = new Map<string, Promise<{ tenant: Tenant; secret: string } | null>>();
  /** Forge tenants' last recorded token (its SHA-256, never the token) and when, to skip unchanged writes. */
  private readonly recordedTokens = new Map<string, { digest: string; at: number }>();
  /** Forge installations found installed: every UI call names its installation, as a signed call names its tenant. */
  private readonly installedForge = new Map<string, { tenant: Tenant; apiBaseUrl: string; at: number }>();

  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
    private readonly now: () => Date = () => new Date(),
    private readonly logger?: Logger,
  ) {}

  async findByClientKey(clientKey: string): Promise<Tenant | null> {
    const row = await this.db.withSystem('tenant lookup by clientKey', (trx) =>
      this.rowByClientKey(trx, clientKey),
    );
    return row ? toTenant(row) : null;
  }

  async findById(id: string): Promise<Tenant | null> {
    const row = await this.db.withSystem('tenant lookup by id', (trx) =>
      trx<TenantRow>('tenants').where({ id }).first(),
    );
    return row ? toTenant(row) : null;
  }

  async list(): Promise<Tenant[]> {
    const rows = await this.db.withSystem('tenant listing', (trx) =>
      trx<TenantRow>('tenants').orderBy('installed_at'),
    );
    return rows.map(toTenant);
  }

  /**
   * The tenant and its decrypted secret, for verifying a signed request. Cached briefly in process memory because
   * every webhook and API call needs it; this process's own installs and uninstalls clear the entry, and
   * `fresh` bypasses the cache (another replica may have rotated the secret). An entry past half its life is
   * refreshed in the background while it still serves, and concurrent lookups of one client share one query:
   * under steady traffic no request waits for the registry, and an expiry never sends every request in flight to
   * the database at once (measured: a 150-300 ms stall of the webhook intake every 5 s).
   */
  async findWithSecret(
    clientKey: string,
    options: { fresh?: boolean } = {},
  ): Promise<{ tenant: Tenant; secret: string } | null> {
    const cached = this.secrets.get(clientKey);
    const age = cached ? this.now().getTime() - cached.at : Infinity;
    if (options.fresh || age >= SECRET_CACHE_MS) return this.loadSecret(clientKey, options.fresh);
    if (age >= SECRET_CACHE_MS / 2) this.loadSecret(clientKey).catch(() => undefined);
    return cached!.value;
  }

  /** After this process's own install or uninstall: a lookup already under way must not bring the old row back. */
  private forgetSecret(clientKey: string): void {
    this.secrets.delete(clientKey);
    this.loadingSecrets.delete(clientKey);
  }

  /** Concurrent lookups share one query; `fresh` starts its own (one under way may predate a rotation). */
  private loadSecret(clientKey: string, fresh = false): Promise<{ tenant: Tenant; secret: string } | null> {
    let loading = fresh ? undefined : this.loadingSecrets.get(clientKey);
    if (!loading) {
      const current = (): boolean => this.loadingSecrets.get(clientKey) === loading;
      loading = this.db
        .withSystem('JWT verification', (trx) => this.connectRow(trx, clientKey))
        .then((row) => {
          const value = row ? { tenant: toTenant(row), secret: this.openSecret(row) } : null;
          if (!current()) return value;
          if (this.secrets.size >= SECRET_CACHE_MAX) this.secrets.clear();
          if (value) this.secrets.set(clientKey, { value, at: this.now().getTime() });
          else this.secrets.delete(clientKey);
          return value;
        })
        .finally(() => {
          if (current()) this.loadingSecrets.delete(clientKey);
        });
      this.loadingSecrets.set(clientKey, loading);
    }
    return loading;
  }

  /** The decrypted shared secret; the clientKey is bound in as associated data so rows cannot be swapped. */
  async sharedSecret(clientKey: string): Promise<string | null> {
    const row = await this.db.withSystem('shared secret for JWT', (trx) => this.connectRow(trx, clientKey));
    return row ? this.openSecret(row) : null;
  }

  /**
   * Opens a stored secret with the key ring. A secret no configured key opens (its key was dropped from
   * TALLY_ENCRYPTION_KEY too early, or the value was altered) fails that tenant alone, loudly: callers answer 401
   * or fail the tenant's job; every other tenant carries on.
   */
  private openSecret(row: Pick<TenantRow, 'id' | 'client_key' | 'shared_secret_enc'>): string {
    try {
      return this.box.open(row.shared_secret_enc ?? '', row.client_key);
    } catch (error) {
      if (error instanceof UnreadableSecretError) {
        this.logger?.error(
          { tenantId: row.id, clientKey: row.client_key, sealedWith: error.keyId, ring: this.box.keyIds },
          'shared secret unreadable: no key in TALLY_ENCRYPTION_KEY opens it; restore the key it was sealed with',
        );
      }
      throw error;
    }
  }

  /**
   * Re-seals every tenant's secret that is not sealed with the first key of the ring (`npm run rotate-secrets`).
   * Idempotent; a secret rewritten meanwhile (a reinstall) is read again, so no install is ever overwritten with an
   * older secret. Secrets no key opens are left as they are and named.
   */
  async resealSecrets(): Promise<{ resealed: number; current: number; unreadable: string[] }> {
    // Forge tenants have no secret (Forge signs with its own keys); their system tokens: resealForgeTokens.
    const ids = await this.db.withSystem('key rotation: tenants', (trx) =>
      trx('tenants').where({ platform: 'connect' }).orderBy('installed_at').pluck('id'),
    );
    const result = { resealed: 0, current: 0, unreadable: [] as string[] };
    for (const id of ids as string[]) {
      for (;;) {
        const row = await this.db.withSystem('key rotation: read secret', (trx) =>
          trx<TenantRow>('tenants').where({ id }).first('id', 'client_key', 'shared_secret_enc'),
        );
        if (!row) break; // purged meanwhile
        if (this.box.isCurrent(row.shared_secret_enc ?? '')) {
          result.current++;
          break;
        }
        let secret: string;
        try {
          secret = this.openSecret(row);
        } catch (error) {
          if (!(error instanceof UnreadableSecretError)) throw error;
          result.unreadable.push(row.client_key);
          break;
        }
        const updated = await this.db.withSystem('key rotation: reseal secret', async (trx) => {
          const count = await trx('tenants')
            .where({ id, shared_secret_enc: row.shared_secret_enc })
            .update({ shared_secret_enc: this.box.seal(secret, row.client_key) });
          if (count === 1) {
            await trx('system_audit_log').insert({
              actor: 'system:rotate-secrets',
              action: 'tenant.secret_resealed',
              subject_tenant_id: id,
              client_key: row.client_key,
              details: { key_id: this.box.keyId },
            });
          }
          return count;
        });
        if (updated === 1) {
          result.resealed++;
          break;
        }
      }
    }
    return result;
  }

  /**
   * Re-seals every Forge tenant's stored system token that is not sealed with the first key of the ring (`npm run
   * rotate-secrets`), so the older keys can be dropped without leaving a quiet installation tokenless until its
   * next invocation. Compare-and-swap on the sealed value: a newer token stored meanwhile by an invocation is never
   * overwritten. One no key opens is counted and left alone: the next invocation (hourly at the latest, the
   * scheduled trigger) replaces it.
   */
  async resealForgeTokens(): Promise<{ resealed: number; current: number; unreadable: string[] }> {
    const rows = await this.db.withSystem('key rotation: forge tokens', (trx) =>
      trx('tenants')
        .where({ platform: 'forge' })
        .whereNotNull('forge_system_token_enc')
        .orderBy('installed_at')
        .select<{ id: string; client_key: string; forge_system_token_enc: string }[]>(
          'id',
          'client_key',
          'forge_system_token_enc',
        ),
    );
    const result = { resealed: 0, current: 0, unreadable: [] as string[] };
    for (const row of rows) {
      if (this.box.isCurrent(row.forge_system_token_enc)) {
        result.current++;
        continue;
      }
      let token: string;
      try {
        token = this.box.open(row.forge_system_token_enc, row.client_key);
      } catch (error) {
        if (!(error instanceof UnreadableSecretError)) throw error;
        result.unreadable.push(row.client_key);
        continue;
      }
      const updated = await this.db.withSystem('key rotation: reseal forge token', (trx) =>
        trx('tenants')
          .where({ id: row.id, forge_system_token_enc: row.forge_system_token_enc })
          .update({ forge_system_token_enc: this.box.seal(token, row.client_key) }),
      );
      // 0: an invocation stored a newer token meanwhile, sealed with the first key already.
      if (updated === 1) result.resealed++;
      else result.current++;
    }
    return result;
  }

  /**
   * Install or reinstall. A tenant Bitbucket has confirmed (installed, or uninstalled within its 60 days) comes back
   * `installed` with the same id, and so the same data, but only for a `trusted` install: one signed with its
   * stored secret. Anything else is a first install: `pending`, due for deletion PENDING_TTL_MS later unless
   * verified (a pending row's credentials are replaced, since nobody has vouched for them). Returns null when a
   * confirmed tenant's install was not trusted. `afterSave` runs in the same transaction.
   */
  async saveInstallation(
    install: Installation,
    options: { trusted: boolean; afterSave?: InTransaction },
  ): Promise<Tenant | null> {
    const { sharedSecret, ...clientInfo } = install;
    const principal = install.principal ?? {};
    const now = this.now();
    const saved = await this.db.withSystem('install', async (trx) => {
      const existing = await this.rowByClientKey(trx, install.clientKey, true);
      const confirmed = existing !== undefined && existing.state !== 'pending';
      if (confirmed && !options.trusted) return null;
      const fields = {
        workspace_uuid: principal.uuid ?? null,
        workspace_slug: principal.username ?? principal.slug ?? null,
        workspace_name: principal.display_name ?? null,
        base_url: install.baseUrl,
        base_api_url: install.baseApiUrl,
        shared_secret_enc: this.box.seal(sharedSecret, install.clientKey),
        client_info: clientInfo,
        state: confirmed ? 'installed' : 'pending',
        uninstalled_at: null,
        delete_after: confirmed ? null : new Date(now.getTime() + PENDING_TTL_MS),
        updated_at: now,
      } satisfies Partial<TenantRow>;
      const [row] = existing
        ? await trx<TenantRow>('tenants')
            .where({ id: existing.id })
            .update({ ...fields, ...(confirmed ? {} : { installed_at: now }) })
            .returning('*')
        : await trx<TenantRow>('tenants')
            .insert({ client_key: install.clientKey, ...fields, installed_at: now })
            // Two first installs at once: the later one's credentials stand, both pending.
            .onConflict('client_key')
            .merge()
            .returning('*');
      await trx('system_audit_log').insert({
        actor: 'bitbucket',
        action: confirmed ? 'tenant.installed' : 'tenant.install_pending',
        subject_tenant_id: row!.id,
        client_key: install.clientKey,
      });
      const tenant = toTenant(row!);
      await options.afterSave?.(trx, tenant);
      return tenant;
    });
    this.forgetSecret(install.clientKey);
    return saved;
  }

  /** A pending tenant and the secret to verify, or null when the tenant is not pending (confirmed, or gone). */
  async pendingCredentials(tenantId: string): Promise<{ tenant: Tenant; sharedSecret: string } | null> {
    const row = await this.db.withSystem('install verification', (trx) =>
      trx<TenantRow>('tenants').where({ id: tenantId, state: 'pending' }).first(),
    );
    return row ? { tenant: toTenant(row), sharedSecret: this.openSecret(row) } : null;
  }

  /**
   * Bitbucket answered a request signed with these credentials: the pending tenant becomes installed, but only if
   * they are still the stored ones (a newer install of the same clientKey replaced them: its own verification
   * decides). Compared in clear under the row lock, since a key rotation may have sealed the same secret anew.
   */
  async confirmInstallation(
    tenantId: string,
    verified: { sharedSecret: string; baseApiUrl: string },
    afterConfirm?: InTransaction,
  ): Promise<Tenant | null> {
    const now = this.now();
    const confirmed = await this.db.withSystem('install verified', async (trx) => {
      const current = await trx<TenantRow>('tenants')
        .where({ id: tenantId, state: 'pending' })
        .forUpdate()
        .first();
      if (
        !current ||
        current.base_api_url !== verified.baseApiUrl ||
        this.openSecret(current) !== verified.sharedSecret
      )
        return null;
      const [row] = await trx<TenantRow>('tenants')
        .where({ id: tenantId })
        .update({ state: 'installed', delete_after: null, updated_at: now })
        .returning('*');
      await trx('system_audit_log').insert({
        actor: 'bitbucket',
        action: 'tenant.verified',
        subject_tenant_id: tenantId,
        client_key: current.client_key,
      });
      const tenant = toTenant(row!);
      await afterConfirm?.(trx, tenant);
      return tenant;
    });
    if (confirmed) this.forgetSecret(confirmed.clientKey);
    return confirmed;
  }

  /** Uninstall keeps every row and schedules the tenant's deletion RETENTION_DAYS later. */
  async markUninstalled(clientKey: string): Promise<Tenant | null> {
    const now = this.now();
    const deleteAfter = new Date(now.getTime() + RETENTION_DAYS * 86_400_000);
    const row = await this.db.withSystem('uninstall', async (trx) => {
      // A pending tenant was never confirmed: uninstalling it changes nothing (the purge removes it within the
      // hour), and an `uninstalled` row would let a reinstall signed with its unverified secret restore it.
      const [updated] = await trx<TenantRow>('tenants')
        .where({ client_key: clientKey })
        .whereNot({ state: 'pending' })
        .update({ state: 'uninstalled', uninstalled_at: now, delete_after: deleteAfter, updated_at: now })
        .returning('*');
      if (updated) {
        await trx('system_audit_log').insert({
          actor: 'bitbucket',
          action: 'tenant.uninstalled',
          subject_tenant_id: updated.id,
          client_key: clientKey,
          details: { delete_after: deleteAfter.toISOString() },
        });
      }
      return updated;
    });
    this.forgetSecret(clientKey);
    return row ? toTenant(row) : null;
  }

  /**
   * A valid Forge invocation or `installed` event: the installation's tenant, created on first sight and brought
   * back if it was marked uninstalled (Forge invokes installed apps only). The workspace and API base URL are
   * refreshed from the verified token; a workspace once known is never replaced by another (a token naming a
   * different workspace for the same installation is refused: null).
   */
  async saveForgeInstallation(
    input: {
      installationId: string;
      apiBaseUrl: string;
      workspaceUuid: string | null;
      /** The invocation's system token: stored with a new or returning tenant, before its backfill starts. */
      systemToken?: { token: string; expiresAt: Date | null } | null;
    },
    options: { afterInstall?: InTransaction } = {},
  ): Promise<Tenant | null> {
    const now = this.now();
    // Served from memory for SECRET_CACHE_MS, like a signed call's tenant: an installed tenant seen with the same
    // apiBaseUrl and workspace needs no registry read (a change there, or a return from uninstalled, goes below).
    const known = this.installedForge.get(input.installationId);
    if (
      known &&
      now.getTime() - known.at < SECRET_CACHE_MS &&
      known.apiBaseUrl === input.apiBaseUrl &&
      known.tenant.workspaceUuid !== null &&
      (input.workspaceUuid === null || known.tenant.workspaceUuid === input.workspaceUuid)
    )
      return known.tenant;
    const row = await this.db.withSystem('forge install', async (trx) => {
      const existing = await trx<TenantRow>('tenants').where({ client_key: input.installationId }).first();
      if (existing && existing.platform !== 'forge') return null;
      if (existing?.workspace_uuid && input.workspaceUuid && existing.workspace_uuid !== input.workspaceUuid)
        return null;
      if (
        existing &&
        existing.state === 'installed' &&
        existing.base_api_url === input.apiBaseUrl &&
        (input.workspaceUuid === null || existing.workspace_uuid === input.workspaceUuid)
      )
        return existing;
      const fields = {
        workspace_uuid: input.workspaceUuid ?? existing?.workspace_uuid ?? null,
        base_url: 'https://bitbucket.org',
        base_api_url: input.apiBaseUrl,
        state: 'installed' as const,
        uninstalled_at: null,
        delete_after: null,
        updated_at: now,
        forge_invoked_at: now,
        ...(input.systemToken
          ? {
              forge_system_token_enc: this.box.seal(input.systemToken.token, input.installationId),
              forge_system_token_expires_at: input.systemToken.expiresAt,
              forge_token_refused_at: null,
            }
          : {}),
      };
      const [saved] = existing
        ? await trx<TenantRow>('tenants').where({ id: existing.id }).update(fields).returning('*')
        : await trx<TenantRow>('tenants')
            .insert({
              ...fields,
              client_key: input.installationId,
              platform: 'forge',
              shared_secret_enc: null,
              client_info: { installationId: input.installationId, apiBaseUrl: input.apiBaseUrl },
              installed_at: now,
            })
            // Two first invocations at once: one inserts, the other finds it.
            .onConflict('client_key')
            .merge(['updated_at'])
            .returning('*');
      if (!existing || existing.state !== 'installed')
        await trx('system_audit_log').insert({
          actor: 'forge',
          action: 'tenant.installed',
          subject_tenant_id: saved!.id,
          client_key: input.installationId,
          details: { platform: 'forge' },
        });
      // A new tenant, one back from `uninstalled`, or one whose workspace just became known: its backfill starts
      // (as a Connect install's does).
      const started = !existing || existing.state !== 'installed' || !existing.workspace_uuid;
      if (started && saved!.platform === 'forge' && saved!.workspace_uuid)
        await options.afterInstall?.(trx, toTenant(saved!));
      return saved!;
    });
    if (!row || row.platform !== 'forge') return null;
    const tenant = toTenant(row);
    if (this.installedForge.size >= SECRET_CACHE_MAX) this.installedForge.clear();
    if (tenant.state === 'installed')
      this.installedForge.set(input.installationId, {
        tenant,
        apiBaseUrl: input.apiBaseUrl,
        at: now.getTime(),
      });
    return tenant;
  }

  /**
   * A valid Forge invocation reached Tally: keep its system token (`x-forge-oauth-system`, when sent) as the
   * tenant's newest, sealed with the key ring (the installation id bound in), with its expiry when known, and note
   * the time (the uninstall sweep reads it). A write never replaces a token recorded at a later moment. An unchanged
   * token is written again at most every INVOCATION_RECORD_MS per process.
   */
  async recordForgeInvocation(
    tenant: Tenant,
    systemToken: { token: string; expiresAt: Date | null } | null,
  ): Promise<void> {
    if (tenant.platform !== 'forge') return;
    const now = this.now();
    const digest = systemToken ? createHash('sha256').update(systemToken.token).digest('hex') : '';
    const seen = this.recordedTokens.get(tenant.id);
    if (seen && seen.digest === digest && now.getTime() - seen.at < INVOCATION_RECORD_MS) return;
    await this.db.withSystem('forge invocation', (trx) =>
      trx('tenants')
        .where({ id: tenant.id, platform: 'forge' })
        .where((q) => q.whereNull('forge_invoked_at').orWhere('forge_invoked_at', '<=', now))
        .update({
          forge_invoked_at: now,
          ...(systemToken
            ? {
                forge_system_token_enc: this.box.seal(systemToken.token, tenant.clientKey),
                forge_system_token_expires_at: systemToken.expiresAt,
                forge_token_refused_at: null,
              }
            : {}),
        }),
    );
    if (this.recordedTokens.size >= SECRET_CACHE_MAX) this.recordedTokens.clear();
    this.recordedTokens.set(tenant.id, { digest, at: now.getTime() });
  }

  /**
   * A Forge tenant's newest system token and its expiry, or null when none is stored, Bitbucket refused it (a new
   * token clears the refusal), or no configured key opens it (sealed under a key since dropped): the next invocation
   * brings a new one.
   */
  async forgeSystemToken(tenantId: string): Promise<{ token: string; expiresAt: Date | null } | null> {
    const row = await this.db.withSystem('forge system token', (trx) =>
      trx('tenants').where({ id: tenantId, platform: 'forge' }).first<
        | {
            client_key: string;
            forge_system_token_enc: string | null;
            forge_system_token_expires_at: Date | null;
            forge_token_refused_at: Date | null;
          }
        | undefined
      >('client_key', 'forge_system_token_enc', 'forge_system_token_expires_at', 'forge_token_refused_at'),
    );
    if (!row?.forge_system_token_enc || row.forge_token_refused_at) return null;
    try {
      return {
        token: this.box.open(row.forge_system_token_enc, row.client_key),
        expiresAt: row.forge_system_token_expires_at,
      };
    } catch (error) {
      if (!(error instanceof UnreadableSecretError)) throw error;
      this.logger?.warn(
        { tenantId, sealedWith: error.keyId },
        'forge system token unreadable; waiting for a new one',
      );
      return null;
    }
  }

  /** Bitbucket answered 401 to the stored system token (the uninstall sweep reads this). */
  async markForgeTokenRefused(tenantId: string): Promise<void> {
    const now = this.now();
    await this.db.withSystem('forge token refused', (trx) =>
      trx('tenants').where({ id: tenantId, platform: 'forge' }).update({ forge_token_refused_at: now }),
    );
    this.recordedTokens.delete(tenantId);
  }

  /**
   * Forge sends no uninstall event (docs/forge.md), so this stands in for one: a Forge tenant that no valid
   * invocation has reached for FORGE_SILENCE_DAYS and that holds no usable system token (none, refused by
   * Bitbucket, or past its known expiry) is marked uninstalled with `delete_after` RETENTION_DAYS out, the same state
   * a Connect uninstall leaves (the purge deletes it then). One statement decides and updates, so an invocation
   * landing meanwhile is never overruled; any later valid invocation brings the tenant back with its data.
   */
  async sweepSilentForgeInstallations(now = this.now()): Promise<Tenant[]> {
    const silentSince = new Date(now.getTime() - FORGE_SILENCE_DAYS * 86_400_000);
    const deleteAfter = new Date(now.getTime() + RETENTION_DAYS * 86_400_000);
    const rows = await this.db.withSystem('forge uninstall sweep', async (trx) => {
      const { rows: swept } = await trx.raw<{ rows: TenantRow[] }>(
        `update tenants
            set state = 'uninstalled', uninstalled_at = ?, delete_after = ?, updated_at = ?
          where platform = 'forge' and state = 'installed'
            and coalesce(forge_invoked_at, installed_at) < ?
            and (forge_system_token_enc is null
                 or forge_token_refused_at is not null
                 or forge_system_token_expires_at <= ?)
         returning *`,
        [now, deleteAfter, now, silentSince, now],
      );
      for (const row of swept)
        await trx('system_audit_log').insert({
          actor: 'tally:forge-sweep',
          action: 'tenant.uninstalled',
          subject_tenant_id: row.id,
          client_key: row.client_key,
          details: {
            delete_after: deleteAfter.toISOString(),
            reason: `no Forge invocation for ${FORGE_SILENCE_DAYS} days and no usable system token`,
          },
        });
      return swept;
    });
    for (const row of rows) {
      this.recordedTokens.delete(row.id);
      this.installedForge.delete(row.client_key);
    }
    return rows.map(toTenant);
  }

  /** Connect's secret lookups never see a Forge tenant: it has no secret, and Connect JWTs cannot name it. */
  private connectRow(trx: Trx, clientKey: string): Promise<TenantRow | undefined> {
    if (clientKey.includes('\u0000')) return Promise.resolve(undefined);
    return trx<TenantRow>('tenants').where({ client_key: clientKey, platform: 'connect' }).first();
  }

  private rowByClientKey(trx: Trx, clientKey: string, forUpdate = false): Promise<TenantRow | undefined> {
    // PostgreSQL text cannot hold NUL, and no stored clientKey has one: a JWT claiming one names nobody.
    if (clientKey.includes('\u0000')) return Promise.resolve(undefined);
    const query = trx<TenantRow>('tenants').where({ client_key: clientKey });
    return (forUpdate ? query.forUpdate() : query).first();
  }
}
