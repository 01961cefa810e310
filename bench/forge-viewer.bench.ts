/**
 * What the Forge user token costs a UI call: `GET /api/v1/repositories` from a member's workspace page (Forge
 * invocation token, `bitbucket:workspaceGlobalPage`) without a user token (public repositories only), with one whose
 * viewer's permissions are not cached yet (one paged `GET …/user/workspaces/{workspace}/permissions/repositories` to
 * the simulator: BENCH_REPOSITORIES repositories, 100 a page), and with a cached viewer.
 * Run alone: `npx tsx bench/forge-viewer.bench.ts` (BENCH_VIEWERS, BENCH_REPOSITORIES).
 */
import os from 'node:os';
import { ForgeSimulator } from '../src/simulator/forge';
import { startSimulator } from '../src/simulator/index';
import { startBenchStack } from './support/tally-stack';

const VIEWERS = Number(process.env.BENCH_VIEWERS ?? 40);
const REPOSITORIES = Number(process.env.BENCH_REPOSITORIES ?? 1000);
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;

export async function main(): Promise<void> {
  const forge = await ForgeSimulator.start();
  const stack = await startBenchStack({ FORGE_APP_ID: forge.appId, FORGE_JWKS_URL: forge.jwksUrl });
  const sim = await startSimulator({ rateLimitPerHour: Infinity });
  try {
    sim.addWorkspace({ slug: 'acme', name: 'Acme' });
    for (let i = 0; i < REPOSITORIES; i++) sim.addRepository('acme', { slug: `repo-${i}` });
    const { installation, delivery } = await sim.installForge('acme', { forge, remoteUrl: stack.url });
    if (delivery.status !== 204) throw new Error(`installed answered ${delivery.status}`);
    const viewers = Array.from({ length: VIEWERS }, (_, v) => {
      const account = sim.addUser({ display_name: `Viewer ${v}`, emails: [`viewer${v}@example.com`] });
      for (let i = 0; i < REPOSITORIES; i++)
        sim.setRepositoryPermission('acme', `repo-${i}`, account.account_id, 'read');
      return account;
    });
    const call = async (principal: string, userToken?: string): Promise<number> => {
      const token = await forge.invocationToken({
        installationId: installation.installationId,
        workspaceUuid: installation.workspace.uuid,
        apiBaseUrl: installation.apiBaseUrl,
        principal,
        context: {
          workspaceId: installation.workspace.uuid,
          extension: { type: 'bitbucket:workspaceGlobalPage' },
        },
      });
      const started = performance.now();
      const res = await fetch(`${stack.url}/api/v1/repositories`, {
        headers: {
          authorization: `Bearer ${token}`,
          ...(userToken ? { 'x-forge-oauth-user': userToken } : {}),
        },
      });
      await res.text();
      if (res.status !== 200) throw new Error(`answered ${res.status}`);
      return performance.now() - started;
    };
    // Warm-up: the JWKS fetch and the first connections are not what is measured.
    await call(viewers[0]!.account_id);
    const none: number[] = [];
    const cold: number[] = [];
    const warm: number[] = [];
    for (const viewer of viewers) none.push(await call(viewer.account_id));
    for (const viewer of viewers)
      cold.push(await call(viewer.account_id, sim.issueUserToken('acme', viewer.account_id)));
    for (const viewer of viewers)
      warm.push(await call(viewer.account_id, sim.issueUserToken('acme', viewer.account_id)));
    const line = (name: string, values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return `${name} over ${values.length} calls: p50 ${percentile(sorted, 0.5).toFixed(0)} ms, p95 ${percentile(sorted, 0.95).toFixed(0)} ms`;
    };
    console.log(
      `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')}`,
    );
    console.log(line('no user token (public repositories only)', none));
    console.log(line(`user token, viewer not cached (${REPOSITORIES / 100} pages of permissions)`, cold));
    console.log(line('user token, viewer cached', warm));
  } finally {
    await sim.close();
    await stack.close();
    await forge.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
