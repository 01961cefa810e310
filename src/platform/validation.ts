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

/** How deep a JSON body may nest: Bitbucket's payloads nest about 6 levels; serializing deeper ones overflows. */
export const MAX_JSON_DEPTH = 64;

/**
 * What is wrong with a parsed JSON body as a whole, or null: nested deeper than MAX_JSON_DEPTH (JSON.stringify and
 * any recursive walk would overflow the stack), or text PostgreSQL cannot store in any string or key. Walked
 * without recursion, so no input can overflow it.
 */
export function jsonProblem(
  value: unknown,
): { code: 'invalid_request' | 'invalid_text'; message: string } | null {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item === 'string') {
      if (UNSTORABLE.test(item)) return { code: 'invalid_text', message: 'text that cannot be stored' };
    } else if (item !== null && typeof item === 'object') {
      if (depth > MAX_JSON_DEPTH)
        return { code: 'invalid_request', message: `nested deeper than ${MAX_JSON_DEPTH} levels` };
      for (const [key, inner] of Object.entries(item)) {
        if (UNSTORABLE.test(key)) return { code: 'invalid_text', message: 'text that cannot be stored' };
        stack.push([inner, depth + 1]);
      }
    }
  }
  return null;
}
