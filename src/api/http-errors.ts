import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { errorBody, type ErrorCode } from '../platform/error-codes';
import { HttpError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { captureError } from '../platform/monitoring';
import { zodReason } from '../platform/validation';

interface ClientError {
  status: number;
  code: ErrorCode;
  message: string;
}

/** Body-parser's marked errors, PostgreSQL data exceptions and our own HttpErrors are the client's fault. */
function clientError(error: unknown): ClientError | null {
  if (error instanceof HttpError) return { status: error.status, code: error.code, message: error.message };
  if (error instanceof ZodError)
    return { status: 400, code: 'invalid_request', message: zodReason(error, 'input') };
  // PostgreSQL class 22 (data exception: NUL in text, bad encoding, out-of-range values) means the input was bad.
  const sqlState = (error as { code?: unknown })?.code;
  if (typeof sqlState === 'string' && /^22[0-9A-Z]{3}$/.test(sqlState))
    return { status: 400, code: 'invalid_text', message: 'a value cannot be stored (control characters?)' };
  // 57014: cancelled by statement_timeout (the connection's default, or a job's own).
  if (sqlState === '57014')
    return {
      status: 503,
      code: 'query_timeout',
      message: 'the query took too long; narrow the range or retry',
    };
  const type = (error as { type?: string })?.type;
  if (type === 'entity.parse.failed')
    return { status: 400, code: 'invalid_json', message: 'body is not valid JSON' };
  if (type === 'entity.too.large') return { status: 413, code: 'body_too_large', message: 'body too large' };
  if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    return { status: 415, code: 'unsupported_media_type', message: 'unsupported body encoding' };
  const status = (error as { status?: unknown; statusCode?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return { status, code: status === 404 ? 'not_found' : 'invalid_request', message: 'bad request' };
  return null;
}

/** 4xx `{error: {code, message}}` for bad input; 500 (reported to Sentry) only for our own faults. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const client = clientError(error);
    if (client !== null) {
      if (!res.headersSent) res.status(client.status).json(errorBody(client.code, client.message));
      return;
    }
    logger.error({ err: error, path: req.path }, 'request failed');
    captureError(error);
    if (!res.headersSent) res.status(500).json(errorBody('internal_error', 'internal error'));
  };
}

export const notFoundHandler: RequestHandler = (_req, res) => {
  res.status(404).json(errorBody('not_found', 'not found'));
};
