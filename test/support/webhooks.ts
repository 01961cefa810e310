import { randomUUID } from 'node:crypto';
import { lifecycleJwt, type Workspace } from './bitbucket';

/** Sends a webhook the way Bitbucket does: Connect envelope, JWT over `POST&<path>&`, Bitbucket's headers. */
export async function deliver(
  appUrl: string,
  ws: Workspace,
  path: string,
  event: string,
  data: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
) {
  const res = await fetch(`${appUrl}${path}`, {
    method: 'POST',
    signal,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Bitbucket-Webhooks/2.0',
      authorization: `JWT ${lifecycleJwt(ws.clientKey, ws.sharedSecret, path)}`,
      'x-event-key': event,
      'x-hook-uuid': randomUUID(),
      'x-request-uuid': randomUUID(),
      'x-attempt-number': '1',
      'x-event-time': new Date().toUTCString(),
      ...headers,
    },
    body: typeof data === 'string' ? data : JSON.stringify({ event, data }),
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

export function pushData(
  repoUuid: string,
  fullName: string,
  branch: string,
  newHash: string,
  oldHash: string | null,
) {
  return {
    actor: { type: 'user', uuid: '{a1}', display_name: 'A' },
    repository: { type: 'repository', uuid: repoUuid, full_name: fullName, name: fullName.split('/')[1] },
    push: {
      changes: [
        {
          created: oldHash === null,
          closed: false,
          forced: false,
          truncated: false,
          old:
            oldHash === null
              ? null
              : { type: 'branch', name: branch, target: { type: 'commit', hash: oldHash } },
          new: { type: 'branch', name: branch, target: { type: 'commit', hash: newHash } },
          commits: [{ type: 'commit', hash: newHash }],
        },
      ],
    },
  };
}
