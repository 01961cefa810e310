import { z } from 'zod';
import type { AnnouncedLimit } from './budget';

/**
 * Bitbucket's rate-limit headers (support.atlassian.com "API request limits"; Bitbucket's blog post introducing
 * scaled rate limits): answers to access tokens and Forge apps calling as the app carry `X-RateLimit-Limit` (the
 * requests permitted per hour, not the remaining ones), `X-RateLimit-Resource` (the group counted, e.g. `api` for
 * most of /2.0/repositories/*) and `X-RateLimit-NearLimit` (`true` close to the limit; its threshold is not
 * documented). Connect JWT answers carry none.
 *
 * The documented limits run from 1,000 to 10,000 an hour; a figure outside 1..10,000, or anything that is not a
 * plain number, is ignored (and reported), so a hostile or broken header can never raise the budget past the cap.
 */
export const MAX_ANNOUNCED_PER_HOUR = 10_000;

const limitHeader = z
  .string()
  .trim()
  .regex(/^\d{1,6}$/, 'not a whole number')
  .transform(Number)
  .pipe(z.number().int().min(1).max(MAX_ANNOUNCED_PER_HOUR));
// A short name of letters, digits and punctuation: it becomes a key in the database, never free text.
const resourceHeader = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._:/-]{1,64}$/, 'not a resource name');
const nearLimitHeader = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false']))
  .transform((v) => v === 'true');

/** The resource named when an answer carries a limit without naming its group. */
export const UNNAMED_RESOURCE = 'api';

export type RateLimitHeaders = Record<string, string | string[] | undefined>;

export type ParsedRateLimit =
  | { announced: AnnouncedLimit; rejected?: undefined }
  | { announced?: undefined; rejected: string }
  | { announced?: undefined; rejected?: undefined };

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** What the headers of one answer announce: a validated limit, a reason to ignore them, or nothing (no headers). */
export function parseRateLimitHeaders(headers: RateLimitHeaders): ParsedRateLimit {
  const rawLimit = first(headers['x-ratelimit-limit']);
  if (rawLimit === undefined) return {};
  const limit = limitHeader.safeParse(rawLimit);
  if (!limit.success) return { rejected: `X-RateLimit-Limit ${limit.error.issues[0]!.message}` };
  const rawResource = first(headers['x-ratelimit-resource']);
  const resource = rawResource === undefined ? undefined : resourceHeader.safeParse(rawResource);
  if (resource && !resource.success) return { rejected: 'X-RateLimit-Resource is not a resource name' };
  const rawNear = first(headers['x-ratelimit-nearlimit']);
  const near = rawNear === undefined ? undefined : nearLimitHeader.safeParse(rawNear);
  if (near && !near.success) return { rejected: 'X-RateLimit-NearLimit is neither true nor false' };
  return {
    announced: {
      resource: resource?.data ?? UNNAMED_RESOURCE,
      requestsPerHour: limit.data,
      nearLimit: near?.data ?? false,
    },
  };
}
