import type { TenantStore } from '../db/tenant-store';

/**
 * ACE's store interface backed by the `tenants` table, read-only: installs go through Tally's lifecycle route
 * (src/connect/lifecycle.ts), which is the only writer. Pending tenants are not known to ACE. Other keys (ACE's
 * OAuth token cache) are process-local cache entries.
 */
export class AceTenantStore {
  private readonly cache = new Map<string, unknown>();

  constructor(private readonly tenants: TenantStore) {}

  async get(key: string, clientKey: string): Promise<unknown> {
    if (key !== 'clientInfo') return this.cache.get(`${clientKey}\u0000${key}`) ?? null;
    const tenant = await this.tenants.findByClientKey(clientKey);
    if (!tenant || tenant.state === 'pending' || tenant.platform !== 'connect') return null;
    const sharedSecret = await this.tenants.sharedSecret(clientKey);
    return { ...tenant.clientInfo, sharedSecret };
  }

  async set(key: string, value: unknown, clientKey: string): Promise<unknown> {
    if (key === 'clientInfo') throw new Error('installations are stored by the lifecycle route, not by ACE');
    this.cache.set(`${clientKey}\u0000${key}`, value);
    return value;
  }

  async del(keyOrClientKey: string, clientKey?: string): Promise<void> {
    // Deleting a tenant is the retention job's work (docs/operations.md); ACE's del only clears cache entries.
    if (clientKey) this.cache.delete(`${clientKey}\u0000${keyOrClientKey}`);
  }

  async getAllClientInfos(): Promise<unknown[]> {
    return (await this.tenants.list())
      .filter((t) => t.platform === 'connect' && t.state === 'installed')
      .map((t) => t.clientInfo);
  }

  isMemoryStore(): boolean {
    return false;
  }

  // Forge association stubs ACE expects on every store; Tally is Connect-only.
  async getClientSettingsForForgeInstallation(): Promise<null> {
    return null;
  }
  async deleteAssociation(): Promise<void> {}
  forForgeInstallation() {
    return { get: async () => null, set: async (v: unknown) => v, del: async () => undefined };
  }
}
