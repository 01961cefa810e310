import { randomUUID } from 'node:crypto';
import { signHostRequest } from './auth.js';
import { resolveAppUrl } from './descriptor.js';
import type { Json } from './payloads.js';
import type { Installation } from './store.js';
import type { Delivery } from './types.js';

/** Bitbucket: 10 s timeout, a 5xx is resent up to two more times (attempts 1–3). */
export const MAX_ATTEMPTS = 3;
/** Bitbucket documents 256 KB as the payload limit; bigger payloads may silently not fire. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

export interface PostResult {
  status: number;
  error?: string;
}

export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<PostResult> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await res.arrayBuffer().catch(() => undefined); // drain so the socket can be reused
    return { status: res.status };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return {
      status: 0,
      error: e.name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : (e.cause?.code ?? e.message),
    };
  }
}

export class WebhookSender {
  constructor(
    private readonly deps: {
      deliveries: Delivery[];
      now: () => Date;
      timeoutMs: number;
    },
  ) {}

  /** Sends `event` to every matching descriptor webhook (or "*") of an active installation. */
  async send(inst: Installation | undefined, event: string, data: Json): Promise<Delivery[]> {
    if (!inst || !inst.active) return [];
    const hooks = inst.descriptor.modules.webhooks ?? [];
    const out: Delivery[] = [];
    for (const [i, hook] of hooks.entries()) {
      if (hook.event !== event && hook.event !== '*') continue;
      const delivery: Delivery = {
        id: randomUUID(),
        kind: 'webhook',
        event,
        url: resolveAppUrl(inst.baseUrl, hook.url),
        hookUuid: inst.hookUuids[i]!,
        workspace: inst.workspace.slug,
        body: { event, data },
        status: 0,
        attempts: 0,
        attemptLog: [],
      };
      this.deps.deliveries.push(delivery);
      do {
        await this.attempt(delivery, inst);
      } while (
        (delivery.status === 0 || delivery.status >= 500) &&
        delivery.attempts < MAX_ATTEMPTS &&
        !this.tooBig(delivery)
      );
      out.push(delivery);
    }
    return out;
  }

  /** Resends one delivery: same X-Request-UUID, next X-Attempt-Number, a single attempt. */
  async redeliver(delivery: Delivery, inst: Installation): Promise<Delivery> {
    await this.attempt(delivery, inst);
    return delivery;
  }

  private tooBig(delivery: Delivery): boolean {
    return Buffer.byteLength(JSON.stringify(delivery.body)) > MAX_PAYLOAD_BYTES;
  }

  private async attempt(delivery: Delivery, inst: Installation): Promise<void> {
    const now = this.deps.now();
    delivery.attempts++;
    const at = now.toISOString();
    if (this.tooBig(delivery)) {
      delivery.status = 0;
      delivery.attemptLog.push({
        attempt: delivery.attempts,
        status: 0,
        at,
        error: 'payload over 256 KB: not sent',
      });
      return;
    }
    const token = signHostRequest({
      clientKey: inst.clientKey,
      secret: inst.sharedSecret,
      method: 'POST',
      url: delivery.url,
      baseUrl: inst.baseUrl,
      nowSec: Math.floor(now.getTime() / 1000),
    });
    const result = await postJson(
      delivery.url,
      JSON.stringify(delivery.body),
      {
        'User-Agent': 'Bitbucket-Webhooks/2.0',
        Authorization: `JWT ${token}`,
        'X-Event-Key': delivery.event,
        'X-Hook-UUID': delivery.hookUuid!,
        'X-Request-UUID': delivery.id,
        'X-Attempt-Number': String(delivery.attempts),
        'X-Event-Time': now.toUTCString(),
      },
      this.deps.timeoutMs,
    );
    delivery.status = result.status;
    delivery.attemptLog.push(
      result.error === undefined
        ? { attempt: delivery.attempts, status: result.status, at }
        : { attempt: delivery.attempts, status: result.status, at, error: result.error },
    );
  }
}
