import type { RequestHandler } from 'express';
import { HttpError } from '../platform/errors';

/** No JSON answer of the API is larger than this (issue 13): lists page or are capped well below it. */
export const MAX_JSON_BYTES = 10 * 2 ** 20;

const bytesOf = (text: string) => (text.length * 3 <= MAX_JSON_BYTES ? text.length : Buffer.byteLength(text));

/**
 * The last guard behind the caps and pages: a JSON answer that would pass MAX_JSON_BYTES is refused with
 * `range_too_large` instead of being sent (exports stream CSV or JSON lines and are not bound by it).
 */
export const boundedJson: RequestHandler = (_req, res, next) => {
  res.json = (body: unknown) => {
    const text = JSON.stringify(body) ?? 'null';
    if (bytesOf(text) > MAX_JSON_BYTES)
      throw new HttpError(
        'range_too_large',
        `the answer would be larger than ${MAX_JSON_BYTES / 2 ** 20} MB: narrow the range or filters, or use an export`,
      );
    if (!res.get('Content-Type')) res.type('application/json');
    return res.send(text);
  };
  next();
};

/** The longest prefix of rows whose JSON fits in `budget` bytes (at least one row, so paging always moves on). */
export function fitBytes<T>(rows: T[], budget: number): T[] {
  let used = 0;
  for (let i = 0; i < rows.length; i++) {
    used += Buffer.byteLength(JSON.stringify(rows[i]) ?? '') + 1;
    if (used > budget && i > 0) return rows.slice(0, i);
  }
  return rows;
}
