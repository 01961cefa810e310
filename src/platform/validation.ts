import { z } from 'zod';
import { HttpError } from './errors';

/** `where: reason` for the first zod issue, the one short reason every 400 gives. */
export function zodReason(error: z.ZodError, root = 'body'): string {
  const issue = error.issues[0];
  if (!issue) return `${root}: invalid`;
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : root;
  return `${where}: ${issue.message}`;
}

/**
 * The one validation path for external input: parses `input` with `schema`, or throws a 400 `invalid_request`
 * whose message names the first problem (`root` names the whole input: query, body, payload…).
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown, root = 'body'): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success)
    throw new HttpError('invalid_request', zodReason(parsed.error, root), parsed.error.issues);
  return parsed.data;
}

/**
 * Text a person typed (reasons, names, patterns): no NUL or other control characters but tab and newline.
 * PostgreSQL text cannot hold NUL at all, and the rest only confuses logs and CSV readers.
 */
export const plainText = z
  .string()
  .regex(/^[^\x00-\x08\x0b-\x1f\x7f]*$/, 'control characters are not allowed');

/** Identifiers, names and URLs from other systems (token claims, payload fields): no control characters at all. */
export const noControlText = z.string().regex(/^[^\x00-\x1f\x7f]*$/, 'control characters are not allowed');

// A NUL, or half of a UTF-16 surrogate pair: text PostgreSQL cannot store (text refuses NUL, jsonb both).
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether every string (and key) of a JSON value can be stored as PostgreSQL text or jsonb. */
export function storableJson(value: unknown): boolean {
  if (typeof value === 'string') return !UNSTORABLE.test(value);
  if (Array.isArray(value)) return value.every(storableJson);
  if (value !== null && typeof value === 'object')
    return Object.entries(value).every(([k, v]) => !UNSTORABLE.test(k) && storableJson(v));
  return true;
}
