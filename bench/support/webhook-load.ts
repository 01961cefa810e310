import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { lifecycleJwt, type Workspace } from '../../test/support/bitbucket';
import { pushData } from '../../test/support/webhooks';

const PATH = '/webhooks/repo-push';

export interface LoadOptions {
  connections: number;
  /** Open loop at this many requests per second (latencies corrected for coordinated omission); else closed. */
  overallRate?: number;
  amount?: number;
  /** Seconds. */
  duration?: number;
}

/**
 * autocannon sending one tenant's signed `repo:push` deliveries of one repository to Tally at `url`, each with its
 * own X-Request-UUID and a valid Connect JWT (qsh over `POST&/webhooks/repo-push&`).
 */
export function pushLoad(url: string, ws: Workspace, repositoryUuid: string) {
  const body = JSON.stringify({
    event: 'repo:push',
    data: pushData(repositoryUuid, `${ws.slug}/web`, 'main', 'b'.repeat(40), 'a'.repeat(40)),
  });
  const token = lifecycleJwt(ws.clientKey, ws.sharedSecret, PATH);
  return (options: LoadOptions) =>
    autocannon({
      url: `${url}${PATH}`,
      method: 'POST',
      ...options,
      headers: {
        'content-type': 'application/json',
        authorization: `JWT ${token}`,
        'x-event-key': 'repo:push',
      },
      body,
      // The load generator runs in a worker thread so it does not share the event loop of this process.
      workers: 1,
      requests: [{ setupRequest: fileURLToPath(new URL('./unique-request-uuid.cjs', import.meta.url)) }],
    });
}
