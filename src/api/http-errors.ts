import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { HttpError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { captureError } from '../platform/monitoring';

/** Body-parser and friends mark client errors with a status; everything else is ours. */
function clientStatus(error: unknown): number | null {
  if (error instanceof HttpError) return error.status;
  if (error instanceof ZodError) return 400;
  const status = (error as { status?: unknown; statusCode?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  return null;
}

function clientMessage(error: unknown, status: number): string {
  if (error instanceof HttpError) return error.message;
  if (error instanceof ZodError) return error.issues[0]?.message ?? 'invalid request';
  const type = (error as { type?: string }).type;
  if (type === 'entity.parse.failed') return 'body is not valid JSON';
  if (type === 'entity.too.large') return 'body too large';
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return 'unsupported body encoding';
  return status === 404 ? 'not found' : 'bad request';
}

/** 4xx with a short reason for bad input; 500 (reported to Sentry) only for our own faults. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const status = clientStatus(error);
    if (status !== null) {
      res.status(status).json({ error: clientMessage(error, status) });
      return;
    }
    logger.error({ err: error, path: req.path }, 'request failed');
    captureError(error);
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
  };
}

export const notFoundHandler: RequestHandler = (_req, res) => {
  res.status(404).json({ error: 'not found' });
};
