import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line, wherever they sit in a logged object. */
export const REDACTED_PATHS = [
  'sharedSecret',
  '*.sharedSecret',
  '*.*.sharedSecret',
  'authorization',
  '*.authorization',
  '*.*.authorization',
  'jwt',
  '*.jwt',
  '*.*.jwt',
  'token',
  '*.token',
  '*.*.token',
  'password',
  '*.password',
  'req.headers.authorization',
  'req.headers["x-forge-oauth-user"]',
  'req.headers["x-forge-oauth-system"]',
  'req.headers.cookie',
  'req.query.jwt',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tally' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
