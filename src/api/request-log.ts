import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../platform/logger';

/** Page URLs carry Bitbucket's one-time token in `?jwt=`: never logged. */
const redactJwt = (url: string) => url.replace(/([?&]jwt=)[^&]+/g, '$1[redacted]');

/**
 * One structured line per request, written when the response is finished (or the client went away): request id
 * (`X-Request-Id` when a proxy set one), method, path, status, time and tenant. Errors themselves are logged by the
 * error handler. This replaces pino-http, which built two child loggers per request with the whole request bound:
 * more CPU than the webhook intake's database write.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const header = req.headers['x-request-id'];
    const id = typeof header === 'string' && header.length <= 200 ? header : randomUUID();
    const done = () => {
      res.off('finish', done);
      res.off('close', done);
      const level = res.statusCode >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          reqId: id,
          method: req.method,
          url: redactJwt(req.originalUrl),
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
          tenantId: res.locals.viewer?.tenant.id,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request completed',
      );
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
