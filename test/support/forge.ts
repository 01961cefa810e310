import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ForgeSimulator } from '../../src/simulator/forge';
import type { TestApp } from './app';

/** A host that counts what it is asked: an apiBaseUrl off the allowlist must never be called. */
export async function countingHost(): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"values":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, hits: () => hits };
}

/** Posts Forge's installed event for an installation to Tally, as Forge does (with `systemToken` when given). */
export async function installForge(
  app: TestApp,
  forge: ForgeSimulator,
  input: { installationId: string; workspaceUuid: string; apiBaseUrl: string },
  systemToken?: string,
): Promise<void> {
  const res = await fetch(`${app.url}/forge/installed`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await forge.invocationToken(input)}`,
      'content-type': 'application/json',
      ...(systemToken ? { 'x-forge-oauth-system': systemToken } : {}),
    },
    body: JSON.stringify({ eventType: 'avi:forge:installed:app', id: input.installationId }),
  });
  assert.equal(res.status, 204, await res.text());
}
