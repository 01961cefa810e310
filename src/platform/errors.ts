import { ERROR_CODES, type ErrorCode } from './error-codes';

/** An error that maps to an HTTP answer with a stable code and a short, safe reason. */
export class HttpError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = ERROR_CODES[code].status;
  }
}

export const badRequest = (message: string, details?: unknown) =>
  new HttpError('invalid_request', message, details);
export const unauthorized = (message = 'Unauthorized') => new HttpError('unauthenticated', message);
export const forbidden = (message = 'Forbidden', code: 'admin_only' | 'outside_scope' = 'outside_scope') =>
  new HttpError(code, message);
export const notFound = (message = 'Not found') => new HttpError('not_found', message);
