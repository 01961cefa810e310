import { z } from 'zod';
import { noControlText, plainText } from '../platform/validation';

/**
 * The parts of Bitbucket's webhook payloads (reference §5) that live sync relies on. Unknown fields pass through
 * (Bitbucket adds fields); known fields must have the right shape.
 */
const hash = z.string().regex(/^[0-9a-f]{7,40}$/i, 'not a commit hash');
// Identifiers and names are stored as text and shown: no control characters (NUL cannot be stored at all).
const bracedUuid = noControlText.min(1).max(100);
const name = noControlText.min(1).max(1024);

export const webhookRepository = z
  .object({
    type: z.literal('repository').optional(),
    uuid: bracedUuid,
    full_name: name,
    name: noControlText.max(1024).optional(),
  })
  .loose();

const actor = z
  .object({ type: noControlText.max(64).optional() })
  .loose()
  .optional();

const pushRef = z
  .object({
    type: z.enum(['branch', 'tag', 'named_branch', 'bookmark']),
    name,
    target: z.object({ hash }).loose(),
  })
  .loose();

const pushChange = z
  .object({
    old: pushRef.nullable(),
    new: pushRef.nullable(),
    created: z.boolean(),
    closed: z.boolean(),
    forced: z.boolean(),
    truncated: z.boolean().optional(),
    commits: z.array(z.object({ hash }).loose()).max(100).optional(),
  })
  .loose();

const pullRequest = z
  .object({
    id: z
      .number()
      .int()
      .positive()
      .max(2 ** 31 - 1),
    title: plainText.max(10_000).optional(),
    state: z.enum(['OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED']).optional(),
  })
  .loose();

export const webhookData = {
  'repo:push': z
    .object({
      actor,
      repository: webhookRepository,
      push: z.object({ changes: z.array(pushChange).max(1000) }).loose(),
    })
    .loose(),
  'repo:updated': z
    .object({ actor, repository: webhookRepository, changes: z.record(z.string(), z.unknown()).optional() })
    .loose(),
  'repo:deleted': z.object({ actor, repository: webhookRepository }).loose(),
  'pullrequest:created': z.object({ actor, repository: webhookRepository, pullrequest: pullRequest }).loose(),
  'pullrequest:updated': z.object({ actor, repository: webhookRepository, pullrequest: pullRequest }).loose(),
  'pullrequest:fulfilled': z
    .object({ actor, repository: webhookRepository, pullrequest: pullRequest })
    .loose(),
  'pullrequest:rejected': z
    .object({ actor, repository: webhookRepository, pullrequest: pullRequest })
    .loose(),
} as const;

export type WebhookEvent = keyof typeof webhookData;

export const isWebhookEvent = (event: string): event is WebhookEvent => event in webhookData;

/** The Connect envelope `{"event", "data"}` for one event key. */
export function envelopeFor<E extends WebhookEvent>(event: E) {
  return z.object({ event: z.literal(event), data: webhookData[event] });
}

export type WebhookData<E extends WebhookEvent> = z.infer<(typeof webhookData)[E]>;
